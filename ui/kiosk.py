"""Wall-screen (kiosk) mode and the studi-tiru demo switch.

`?kiosk=1` (or SIGAP_KIOSK=1, or `[kiosk] enabled = true` in the region's region.toml; `?kiosk=0` turns it off)
shows the pages full screen, dark, without Streamlit's chrome, under a header band (clock, last data update,
what needs attention, a ticker of the newest arrivals), rotating through a playlist. Everything refreshes in
place with fragments. Settings, environment first, then region.toml:

    SIGAP_KIOSK_PAGES            [kiosk] pages = ["overview", "map", "agencies", "channels"]   (url paths)
    SIGAP_KIOSK_SECONDS          [kiosk] interval_seconds = 30      seconds per page
    SIGAP_KIOSK_REFRESH_SECONDS  [kiosk] refresh_seconds = 15       data refresh in place
    SIGAP_KIOSK_RELOAD_HOURS     [kiosk] reload_hours = 4           the browser reloads itself (memory)
    SIGAP_KIOSK_TICKER           [kiosk] ticker_size = 10           newest arrivals in the ticker

`?demo=1` (or SIGAP_DEMO=1) starts the demo simulator on a demo database and adds "how" to the playlist.

Pages may call `kiosk.active()` to draw a wall variant (fewer rows, no long text); whatever they draw is
scaled down to fit the screen if it is too tall.

Only constant CSS goes through unsafe HTML; every text shown comes through Streamlit's escaped elements.
"""
from __future__ import annotations

import logging
import os
import time
import tomllib
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import pandas as pd
import streamlit as st
import streamlit.components.v1 as components

from metrics import Filters, alerts, queries
from metrics.privacy import markdown_literal
from ui import context
from ui import filters as ui_filters
from ui.i18n import fmt_date, fmt_hours, fmt_int, label, register, t

log = logging.getLogger("sigap.kiosk")
_warned = False  # metrics.channels failed once already (say so once, not every refresh)
DEFAULT_PAGES = ("overview", "map", "agencies", "channels")
DEMO_PAGE = "how"  # added to the playlist in demo mode: visiting delegations see how it works
TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")

register({
    "kiosk_next": ("Berikutnya", "Next"),
    "kiosk_latest": ("TERBARU", "LATEST"),
    "kiosk_updated": ("Data masuk {time} · {ago}", "Last data {time} · {ago}"),
    "kiosk_no_update": ("Belum ada data masuk", "No data received yet"),
    "kiosk_ago": ("{age} lalu", "{age} ago"),
    "kiosk_just_now": ("baru saja", "just now"),
    "kiosk_channels_ok": ("Semua kanal aktif", "All channels live"),
    "kiosk_channels_stale": ("tanpa data baru", "no new data"),
    "kiosk_channels_live": ("Kanal aktif", "Channels live"),
    "kiosk_never": ("belum pernah", "never"),
    "kiosk_spike": ("LONJAKAN", "SPIKE"),
    "kiosk_spike_text": ("{category} di {district}: {count} dalam 1 jam terakhir, {usual} dalam 28 hari sebelumnya",
                         "{category} in {district}: {count} in the last hour, {usual} in the 28 days before"),
    "kiosk_demo": ("DEMO · data simulasi", "DEMO · simulated data"),
    "kiosk_demo_refused": ("Mode demo tidak dijalankan: {database} bukan basis data demo. Gunakan basis data "
                           "SQLite bawaan, basis data yang namanya memuat \"demo\", atau SIGAP_DEMO_DATABASE=1.",
                           "Demo mode not started: {database} is not a demo database. Use the embedded SQLite "
                           "database, a database whose name contains \"demo\", or SIGAP_DEMO_DATABASE=1."),
    "kiosk_no_arrivals": ("Belum ada aduan masuk", "No complaints yet"),
    **{f"weekday_{i}": pair for i, pair in enumerate([
        ("Senin", "Monday"), ("Selasa", "Tuesday"), ("Rabu", "Wednesday"), ("Kamis", "Thursday"),
        ("Jumat", "Friday"), ("Sabtu", "Saturday"), ("Minggu", "Sunday")])},
})


# --- configuration -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Settings:
    default_on: bool = False
    pages: tuple[str, ...] = DEFAULT_PAGES
    seconds: float = 30  # per page in the playlist
    refresh_seconds: float = 15  # data fragments
    reload_hours: float = 4  # the browser reloads itself to cap its memory
    ticker_size: int = 10


@lru_cache(maxsize=8)
def _region_table(path: str) -> dict:
    """The [kiosk] table of region.toml (read here: the region loader does not keep it)."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8")).get("kiosk", {})
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def settings() -> Settings:
    """Environment first (SIGAP_KIOSK_*), then region.toml [kiosk], then the defaults."""
    table = _region_table(str(context.region().path / "region.toml"))

    def pick(env: str, key: str, default, cast):
        raw = os.environ.get(env)
        if raw not in (None, ""):
            return cast(raw)
        return cast(table[key]) if key in table else default

    def pages(value) -> tuple[str, ...]:
        items = value.split(",") if isinstance(value, str) else value
        return tuple(p.strip() for p in items if str(p).strip())

    return Settings(
        default_on=pick("SIGAP_KIOSK", "enabled", False, _flag),
        pages=pick("SIGAP_KIOSK_PAGES", "pages", DEFAULT_PAGES, pages) or DEFAULT_PAGES,
        seconds=max(3.0, pick("SIGAP_KIOSK_SECONDS", "interval_seconds", 30.0, float)),
        refresh_seconds=max(2.0, pick("SIGAP_KIOSK_REFRESH_SECONDS", "refresh_seconds", 15.0, float)),
        reload_hours=max(0.001, pick("SIGAP_KIOSK_RELOAD_HOURS", "reload_hours", 4.0, float)),
        ticker_size=int(pick("SIGAP_KIOSK_TICKER", "ticker_size", 10, int)),
    )


def _flag(value) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() in TRUE


def _param_flag(name: str) -> bool | None:
    value = str(st.query_params.get(name, "")).strip().lower()
    return True if value in TRUE else False if value in FALSE else None


def active() -> bool:
    """?kiosk=1 turns it on, ?kiosk=0 off; otherwise the configured default."""
    flag = _param_flag("kiosk")
    return settings().default_on if flag is None else flag


def demo_requested() -> bool:
    flag = _param_flag("demo")
    return _flag(os.environ.get("SIGAP_DEMO", "")) if flag is None else flag


# --- demo --------------------------------------------------------------------------------------------------

@st.cache_resource(show_spinner=False)
def _simulator(url: str, region_name: str):
    """One simulator per process and database, whatever the number of sessions."""
    from models.db import get_engine
    from regions import load_region
    from sample_data.simulator import Simulator

    simulator = Simulator(get_engine(url), load_region(region_name))
    simulator.start()
    return simulator


def start_demo():
    """Start the simulator when demo mode is asked for; on a non-demo database say so and do nothing."""
    st.session_state["_kiosk_demo"] = False
    if not demo_requested():
        return None
    from models.db import database_url
    from sample_data.simulator import DemoRefused

    try:
        simulator = _simulator(database_url(), context.region().name)
    except DemoRefused as exc:
        st.error(t("kiosk_demo_refused", database=exc.database))
        return None
    st.session_state["_kiosk_demo"] = True
    return simulator


def demo_running() -> bool:
    """The simulator runs for this session (asked for, and the database is a demo one)."""
    return bool(st.session_state.get("_kiosk_demo"))


# --- the wall screen ---------------------------------------------------------------------------------------

def playlist(pages: list[tuple[str, str, str, str]], root: Path) -> list[tuple[str, str, str]]:
    """(file, title key, url path) of the configured pages that exist, in playlist order. A demo for visitors
    also shows how it works, if the playlist does not already."""
    by_url = {url: (path, title, url) for path, title, _icon, url in pages if (root / path).exists()}
    wanted = settings().pages
    if demo_running() and DEMO_PAGE not in wanted:
        wanted = (*wanted, DEMO_PAGE)
    return [by_url[u] for u in wanted if u in by_url]


def show(page, pages: list[tuple[str, str, str, str]], root: Path) -> None:
    """Draw the kiosk around the current page: style, header band, rotation, live page content."""
    config = settings()
    items = playlist(pages, root)
    titles = [t(title) for _, title, _ in items]  # the default page's url_path is "", its title is unique
    position = titles.index(page.title) if page.title in titles else -1
    following = items[(position + 1) % len(items)] if len(items) > 1 or position < 0 else None
    st.markdown(_css(), unsafe_allow_html=True)
    _screen_script(config.reload_hours)
    _band(page.title, t(following[1]) if following else None, config)
    _rotation(following[0] if following else None, config.seconds)
    with st.container(key="kiosk-page"):
        _live(page, config.refresh_seconds)


def _band(title: str, next_title: str | None, config: Settings) -> None:
    region = context.region()
    every = config.refresh_seconds
    with st.container(key="kiosk-band"):
        left, middle, right = st.columns([2.9, 5.2, 2.5], vertical_alignment="center", gap="medium")
        with left.container(key="kiosk-brand"):
            brand = f"◉ **SIGAP** · {markdown_literal(region.display_name)}"
            st.markdown(brand + (f" :violet-background[{t('kiosk_demo')}]" if demo_running() else ""))
            with st.container(key="kiosk-title"):
                st.markdown(markdown_literal(title))
            if next_title:
                st.caption(f"{t('kiosk_next')}: {markdown_literal(next_title)} ›")
        with middle:
            st.fragment(run_every=every)(_kpis)()
        with right.container(key="kiosk-time"):
            st.fragment(run_every=1)(_clock)()
            st.fragment(run_every=every)(_last_update)()
        st.fragment(run_every=every)(_feed)(config.ticker_size)


def _clock() -> None:
    moment = datetime.now(context.region().timezone)
    with st.container(key="kiosk-clock"):
        st.markdown(f"{moment:%H:%M:%S}")
    st.caption(f"{t(f'weekday_{moment.weekday()}')}, {fmt_date(moment)} · {_zone_name(moment)}")


def _zone_name(moment: datetime) -> str:
    hours = moment.utcoffset().total_seconds() / 3600
    return {7: "WIB", 8: "WITA", 9: "WIT"}.get(hours, moment.tzname() or "")


def _today_filters() -> Filters:
    base = st.session_state.get("filters") or ui_filters.current()
    today = datetime.now(context.region().timezone).date()
    return Filters(today, today, base.channels, base.districts, base.agencies, base.categories)


def _kpis() -> None:
    """Today's arrivals, open and overdue (red when any), and how many channels deliver data."""
    region = context.region()
    head = context.query(queries.headline, _today_filters(), context.now(), region.timezone)
    cols = st.columns(4, gap="small")
    for col, key, value in ((cols[0], "received_today", head.received_today), (cols[1], "open_now", head.open_now),
                            (cols[2], "overdue_now", head.overdue_now)):
        style = "alarm" if key == "overdue_now" and value else key.replace("_", "-")
        with col.container(key=f"kiosk-kpi-{style}"):
            st.metric(t(key), fmt_int(value))
    with cols[3]:
        _channels(datetime.now(timezone.utc))


def _feed(ticker_size: int) -> None:
    _spikes()
    _ticker(datetime.now(timezone.utc), ticker_size)


def _ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return t("kiosk_never")
    minutes = (now - moment).total_seconds() / 60
    return t("kiosk_just_now") if minutes < 1 else t("kiosk_ago", age=fmt_hours(minutes / 60))


def _last_update() -> None:
    last = context.query(queries.last_update)
    with st.container(key="kiosk-updated"):
        if last is None:
            st.markdown(t("kiosk_no_update"))
        else:
            local = last.astimezone(context.region().timezone)
            st.markdown(t("kiosk_updated", time=f"{local:%H:%M}", ago=_ago(last, datetime.now(timezone.utc))))


def _channels(now: datetime) -> None:
    """Live channels out of the enabled ones; the stale ones named, in amber."""
    freshness = _freshness()
    stale = freshness[freshness["stale"]] if not freshness.empty else freshness
    style = "stale" if len(stale) else "ok"
    with st.container(key=f"kiosk-kpi-channels-{style}"):
        st.metric(t("kiosk_channels_live"), f"{fmt_int(len(freshness) - len(stale))}/{fmt_int(len(freshness))}")
        if len(stale):
            names = ", ".join(label("channel", c) for c in stale["channel"])
            st.caption(f"▲ {t('kiosk_channels_stale')}: {markdown_literal(names)}")
        else:
            st.caption(f"● {t('kiosk_channels_ok')}")


def _freshness():
    """Enabled channels with their newest successful import and whether it is stale.

    metrics.channels (the channel-health page's definitions) when it is there, else the import runs directly.
    """
    region, now = context.region(), context.now()
    try:
        from metrics import channels as health

        frame = context.query(health.channel_health, region.name, now)
        frame = frame[frame["state"] != "disabled"]
        return pd.DataFrame({"channel": frame["channel"], "last_success": frame["last_success_at"],
                             "stale": frame["state"] == "stale"})
    except Exception:  # noqa: BLE001 - the wall must stay up; the simple definition is the same rule
        if not _warned:
            log.warning("metrics.channels unavailable; channel freshness from import runs", exc_info=True)
            globals()["_warned"] = True
        return context.query(alerts.channel_freshness, region.channels, now)


def _spikes() -> None:
    found = context.query(alerts.spikes, context.now())
    if not found:
        return
    categories = context.query(queries.category_labels, st.session_state.get("lang", "id"))
    districts = context.query(queries.district_names)
    with st.container(key="kiosk-alert"):
        for spike in found[:2]:
            text = t("kiosk_spike_text", category=categories.get(spike.category, spike.category),
                     district=districts.get(spike.district_code, spike.district_code), count=fmt_int(spike.recent),
                     usual=fmt_int(spike.baseline))
            st.markdown(f"⚠ **{t('kiosk_spike')}** · {markdown_literal(text)}")


def _ticker(now: datetime, size: int) -> None:
    rows = context.query(alerts.newest, size)
    categories = context.query(queries.category_labels, st.session_state.get("lang", "id"))
    districts = context.query(queries.district_names)
    items = []
    for row in rows.itertuples():
        fresh = (now - row.received_at).total_seconds() < 900
        dot = ":red[●]" if row.kind == "emergency_call" else ":orange[●]" if fresh else ":blue[●]"
        parts = [categories.get(row.category, "–") if row.category else t("unknown"),
                 districts.get(row.district_code, "–") if row.district_code else "–",
                 label("channel", row.channel), _ago(row.received_at, now)]
        items.append(f"{dot} {markdown_literal(' · '.join(parts))}")
    gap = "\u2003" * 3
    text = gap.join(items) or t("kiosk_no_arrivals")
    with st.container(key="kiosk-ticker", horizontal=True, vertical_alignment="center", gap="medium"):
        with st.container(key="kiosk-ticker-label", width="content"):
            st.markdown(t("kiosk_latest"))
        with st.container(key="kiosk-ticker-track"):
            # written twice and scrolled by half its width: a seamless loop
            st.markdown(text + gap + text + gap if items else text)
    # scroll speed follows the length (a number, never data, goes into the style)
    seconds = max(20, sum(len(i) for i in items) // 5)
    st.markdown(f"<style>.st-key-kiosk-ticker-track p{{animation-duration:{seconds}s}}</style>",
                unsafe_allow_html=True)


def _rotation(target: str | None, seconds: float) -> None:
    """Move to the next page of the playlist after `seconds`, keeping kiosk, language and filter parameters."""
    st.session_state["_kiosk_shown_at"] = time.monotonic()
    if target is None:
        return

    def rotate() -> None:
        if time.monotonic() - st.session_state.get("_kiosk_shown_at", 0) < seconds * 0.8:
            return  # the run that drew the page, not the timer
        st.switch_page(target, query_params=st.query_params.to_dict())

    st.fragment(run_every=seconds)(rotate)()


def _live(page, seconds: float) -> None:
    """Run the page inside a timed fragment, so its figures refresh in place without a full rerun."""

    def content() -> None:
        page._can_be_called = True  # noqa: SLF001 - Streamlit allows one run per script run; a timer rerun is another
        page.run()

    st.fragment(run_every=seconds)(content)()


def _screen_script(reload_hours: float) -> None:
    """A hidden iframe whose script (1) reloads the browser page every few hours, capping the memory of a
    browser that never closes, and (2) scales the page content to fit the screen, so nothing scrolls.

    The reload timer lives in the parent window, set once per page load: rotations and reruns don't reset it.
    """
    script = SCREEN_SCRIPT.replace("RELOAD_MS", str(int(reload_hours * 3_600_000))).replace("MIN_SCALE", "0.4")
    with st.container(key="kiosk-script"):  # hidden by the kiosk style; a hidden iframe still runs
        if hasattr(st, "iframe"):  # Streamlit >= 1.5x: st.components.v1.html is deprecated
            st.iframe(script, height=1)
        else:
            components.html(script, height=0)


SCREEN_SCRIPT = """<script>(function () {
  var w = window.parent, d = w.document;
  if (!w.__sigapReload) w.__sigapReload = w.setTimeout(w.location.reload.bind(w.location), RELOAD_MS);
  function fit() {
    // Scale the page content so it ends above the bottom edge: laid out 1/scale wider, then scaled down
    // (a transform leaves the layout, and so the charts' own sizing, alone). Shrinks at once, grows slowly.
    var el = d.querySelector('.st-key-kiosk-page');
    if (!el || el.offsetHeight < 10) return;
    var scale = parseFloat(el.getAttribute('data-scale') || '1');
    var natural = Math.max(el.offsetHeight, el.scrollHeight);  // text may overhang its box a little
    var room = w.innerHeight - el.getBoundingClientRect().top - 10;
    var next = Math.max(MIN_SCALE, Math.min(1, room / natural, scale + 0.04));
    if (Math.abs(next - scale) >= 0.01 || !el.getAttribute('data-scale')) {
      scale = next;
      el.setAttribute('data-scale', scale.toFixed(3));
      el.style.setProperty('transform-origin', '0 0');
      el.style.setProperty('transform', 'scale(' + scale.toFixed(3) + ')');
      el.style.setProperty('width', (100 / scale).toFixed(2) + '%', 'important');
      el.style.setProperty('max-width', 'none', 'important');
      w.dispatchEvent(new Event('resize'));  // charts measure their new width
    }
    el.style.marginBottom = (-natural * (1 - scale)).toFixed(0) + 'px';  // the layout ends where it shows
  }
  fit();
  setInterval(fit, 500);
})();</script>"""


def _css() -> str:
    return "<style>" + CSS + "</style>"


CSS = """
/* --- no Streamlit chrome --- */
[data-testid=stHeader], [data-testid=stToolbar], [data-testid=stAppToolbar], [data-testid=stSidebar],
[data-testid=stSidebarCollapsedControl], [data-testid=stExpandSidebarButton], [data-testid=stDecoration],
[data-testid=stStatusWidget], [data-testid=stMainMenu], [data-testid=stAppDeployButton], footer,
[data-testid=stElementToolbar], [data-testid=stDialog], [data-testid=stToastContainer] { display: none !important; }
.st-key-kiosk-script, [data-testid=stElementContainer]:has(> .stMarkdown style:only-child) {
  display: none !important; }

/* --- dark, big, no scrolling. Text in vw: 1.5vw = 28.8 px on 1920 px, 57.6 px on 3840 px --- */
html { font-size: 1.05vw !important; }
html, body, .stApp, [data-testid=stAppViewContainer], [data-testid=stMain] {
  background: #070c16 !important; color: #e8eef8 !important; overflow: hidden !important; }
[data-testid=stMainBlockContainer] { padding: 0.6vw 1.4vw 0 1.4vw !important; max-width: 100% !important; }
[data-stale=true] { opacity: 1 !important; transition: none !important; }
.stApp [data-testid=stMarkdownContainer], .stApp [data-testid=stHeading], .stApp h1, .stApp h2, .stApp h3,
.stApp h4, .stApp label, [data-testid=stMetricLabel], [data-testid=stMetricValue], [data-testid=stText] {
  color: #e8eef8 !important; }
.stApp p, .stApp li { font-size: 1.5vw; line-height: 1.3; }
[data-testid=stCaptionContainer], [data-testid=stCaptionContainer] p { color: #93a4bf !important;
  font-size: 1.1vw !important; }
.st-key-kiosk-page [data-testid=stHeading]:has(h1) { display: none; }
[data-testid=stMetricValue] { font-size: 3vw !important; font-weight: 700; color: #ffffff !important;
  font-variant-numeric: tabular-nums; line-height: 1.1; }
/* Streamlit writes the value inside a paragraph: it takes the value's size, not the body text's */
[data-testid=stMetricValue] p { font-size: inherit !important; line-height: inherit !important;
  font-weight: inherit; color: inherit !important; }
[data-testid=stMetricLabel] p { font-size: 1.1vw !important; text-transform: uppercase; letter-spacing: 0.04em;
  color: #a9bad3 !important; }
[data-testid=stMetricDelta] { background: rgba(255, 255, 255, 0.07) !important; }
[data-testid=stMetricDelta] div { font-size: 0.95vw !important; }
.st-key-kiosk-page h2, .st-key-kiosk-page h3 { font-size: 1.7vw !important; margin: 0.3vw 0 0 0 !important;
  padding: 0 !important; color: #cfe0ff !important; }
[data-testid=stLayoutWrapper] > div[class*=Border], [data-testid=stVerticalBlockBorderWrapper] {
  border-color: #22304a !important; background: #0d1525; }
[data-testid=stAlertContainer] { background: #112036 !important; }
[data-testid=stAlertContainer] * { color: #e8eef8 !important; }
/* charts and tables draw with the light theme's colours: turned dark, hues kept (not maps: WebGL canvases
   under a filter may not draw, and a map keeps its own colours) */
[data-testid=stDataFrame], [data-testid=stVegaLiteChart], [data-testid=stArrowVegaLiteChart] {
  filter: invert(0.92) hue-rotate(180deg); }
/* tables draw their cells on a canvas at a laptop's size: magnified for the far end of the room */
.st-key-kiosk-page [data-testid=stDataFrame] { zoom: 1.25; }
/* a table keeps the width it was first given: it follows its (scaled-to-fit, so wider) column instead, and
   keeps within the height its page gave it (magnified, its rows would spill over what follows) */
.st-key-kiosk-page [data-testid=stDataFrameResizable] { width: 100% !important; max-width: 100% !important;
  max-height: 100% !important; }
/* pictures scale with the screen, not with the (scaled-to-fit) column width */
.st-key-kiosk-page [data-testid=stGraphVizChart] svg { width: 100% !important; height: 31vw !important; }
/* Streamlit sizes charts for the unscaled width: let them fill their (wider) column, within a height */
.st-key-kiosk-page [data-testid=stVegaLiteChart] .vega-embed { width: 100% !important; }
.st-key-kiosk-page [data-testid=stVegaLiteChart] svg.marks { width: 100% !important; height: auto !important;
  max-height: 40vw; }
/* nobody clicks a wall: no buttons, downloads or folded sections; inputs that show a choice go dark */
.st-key-kiosk-page [data-testid=stButton], .st-key-kiosk-page [data-testid=stDownloadButton],
.st-key-kiosk-page [data-testid=stExpander], .st-key-kiosk-page [data-testid=stFileUploader],
.st-key-kiosk-page [data-testid=stPopover] { display: none !important; }
.stApp button { background: #0d1525 !important; color: #cfe0ff !important; border-color: #22304a !important; }
.stApp [data-testid=stBaseButton-segmented_controlActive], .stApp [data-testid=stBaseButton-pillsActive] {
  background: #1c3b63 !important; color: #ffffff !important; border-color: #4c8dff !important; }
.st-key-kiosk-page :is([data-testid=stSelectbox], [data-testid=stMultiSelect], [data-testid=stTextInput],
  [data-testid=stDateInput], [data-testid=stNumberInput]) div { background-color: #0d1525 !important;
  border-color: #22304a !important; }
.st-key-kiosk-page :is([data-testid=stSelectbox], [data-testid=stMultiSelect], [data-testid=stTextInput],
  [data-testid=stDateInput], [data-testid=stNumberInput]) :is(input, span) { color: #e8eef8 !important;
  -webkit-text-fill-color: #e8eef8; }

/* --- header band --- */
.st-key-kiosk-band { background: linear-gradient(180deg, #0f1b31 0%, #0a1322 100%); border: 1px solid #1d2c47;
  border-radius: 0.6vw; padding: 0.5vw 1vw 0.3vw 1vw; gap: 0.35vw !important; margin-bottom: 0.3vw; }
.st-key-kiosk-band p { margin: 0 !important; }
.st-key-kiosk-band [data-testid=stMarkdownContainer], .st-key-kiosk-band [data-testid=stCaptionContainer] {
  margin: 0 !important; }
.st-key-kiosk-brand { gap: 0.2vw !important; }
.st-key-kiosk-brand p { font-size: 1vw !important; color: #8fb3ff !important; letter-spacing: 0.05em; }
.st-key-kiosk-brand .stMarkdownColoredBackground { background: #5b3fd1 !important; color: #ffffff !important;
  font-weight: 700; border-radius: 0.3vw; padding: 0 0.5vw; margin-left: 0.4vw; }
.st-key-kiosk-title p { font-size: 2.6vw !important; font-weight: 800; color: #ffffff !important; line-height: 1.05; }
.st-key-kiosk-brand [data-testid=stCaptionContainer] p { font-size: 0.95vw !important; color: #7f93b3 !important; }
.st-key-kiosk-time { gap: 0.15vw !important; }
.st-key-kiosk-time p { text-align: right; }
.st-key-kiosk-clock p { font-size: 3.6vw !important; font-weight: 700; font-variant-numeric: tabular-nums;
  line-height: 1; color: #ffffff !important; }
.st-key-kiosk-time [data-testid=stCaptionContainer] p { font-size: 0.95vw !important; color: #a9bad3 !important; }
.st-key-kiosk-updated p { font-size: 0.95vw !important; color: #7fd6ff !important; }
[class*=st-key-kiosk-kpi] { background: #0c1628; border: 1px solid #1f3150; border-radius: 0.5vw;
  padding: 0.35vw 0.8vw; gap: 0.1vw !important; height: 100%; }
[class*=st-key-kiosk-kpi] [data-testid=stMetricLabel] p { font-size: 0.85vw !important; }
[class*=st-key-kiosk-kpi] [data-testid=stMetricValue] { font-size: 3.2vw !important; }
[class*=st-key-kiosk-kpi] [data-testid=stCaptionContainer] p { font-size: 0.8vw !important; }
.st-key-kiosk-kpi-alarm { background: #3a0d12; border-color: #ff4d5e; }
.st-key-kiosk-kpi-alarm [data-testid=stMetricValue], .st-key-kiosk-kpi-alarm [data-testid=stMetricLabel] p {
  color: #ff5c6c !important; }
.st-key-kiosk-kpi-channels-ok [data-testid=stMetricValue],
.st-key-kiosk-kpi-channels-ok [data-testid=stCaptionContainer] p { color: #3ddc97 !important; }
.st-key-kiosk-kpi-channels-stale { border-color: #ffb020; background: #2e1f06; }
.st-key-kiosk-kpi-channels-stale [data-testid=stMetricValue],
.st-key-kiosk-kpi-channels-stale [data-testid=stCaptionContainer] p { color: #ffb020 !important; }
.st-key-kiosk-alert { background: #7a0f1c; border: 2px solid #ff4d5e; border-radius: 0.5vw; padding: 0.2vw 0.8vw;
  animation: kiosk-pulse 1.6s ease-in-out infinite; margin-bottom: 0.3vw; }
.st-key-kiosk-alert p { font-size: 1.2vw !important; color: #fff !important; }
@keyframes kiosk-pulse { 50% { background: #b3172a; } }
.st-key-kiosk-ticker { border-top: 1px solid #1d2c47; padding-top: 0.3vw; overflow: hidden;
  flex-wrap: nowrap !important; }
.st-key-kiosk-ticker-label { background: #ff4d5e; border-radius: 0.3vw; padding: 0.05vw 0.6vw; flex-shrink: 0; }
.st-key-kiosk-ticker-label p { font-size: 0.95vw !important; font-weight: 800; color: #fff !important;
  letter-spacing: 0.08em; }
.st-key-kiosk-ticker-track { overflow: hidden; min-width: 0; }
.st-key-kiosk-ticker-track [data-testid=stMarkdownContainer] { overflow: visible; }
.st-key-kiosk-ticker-track p { display: inline-block; white-space: nowrap; font-size: 1.25vw !important;
  animation: kiosk-ticker 60s linear infinite; }
@keyframes kiosk-ticker { from { transform: translateX(0); } to { transform: translateX(-50%); } }
"""
