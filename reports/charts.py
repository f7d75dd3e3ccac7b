"""Report charts: Altair (Vega-Lite) specifications rendered to PNG by vl-convert, with no browser."""
from __future__ import annotations

import altair as alt
import pandas as pd
import vl_convert as vlc

from reports.text import SHORT_MONTHS, word

NAVY = "#1f3a5f"
GREEN = "#2e7d4f"
ORANGE = "#d9822b"
GREY = "#9aa9bb"
FONT = "Liberation Sans"
WIDTH = 660  # px; printed 174 mm wide
SCALE = 3  # 3x pixels: crisp when printed


def _config(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    return chart.configure(font=FONT, background="white").configure_view(stroke=None).configure_axis(
        labelFontSize=11, titleFontSize=11, labelColor="#333", titleColor="#333", gridColor="#e6e9ee",
        domainColor="#888", tickColor="#888",
    ).configure_legend(labelFontSize=11, titleFontSize=11, orient="top", title=None)


def to_png(chart: alt.TopLevelMixin) -> bytes:
    return vlc.vegalite_to_png(_config(chart).to_json(), scale=SCALE)


def _thousands(lang: str) -> str:
    expr = "format(datum.value, ',')"
    return f"replace({expr}, /,/g, '.')" if lang == "id" else expr


def _date_labels(lang: str) -> str:
    months = "[" + ",".join(f"'{m}'" for m in SHORT_MONTHS[lang]) + "]"
    return f"date(datum.value) + ' ' + {months}[month(datum.value)]"


def daily_chart(daily: pd.DataFrame, lang: str) -> bytes:
    """Received and resolved per day, two lines."""
    frame = daily.melt(id_vars="day", value_vars=["received", "resolved"], var_name="series", value_name="count")
    names = {"received": word("series_received", lang), "resolved": word("series_resolved", lang)}
    frame["series"] = frame["series"].map(names)
    chart = alt.Chart(frame).mark_line(point=alt.OverlayMarkDef(size=18), strokeWidth=2).encode(
        x=alt.X("day:T", title=None, axis=alt.Axis(labelExpr=_date_labels(lang), tickCount=8, grid=False)),
        y=alt.Y("count:Q", title=word("count", lang), axis=alt.Axis(labelExpr=_thousands(lang), tickMinStep=1)),
        color=alt.Color("series:N", scale=alt.Scale(domain=list(names.values()), range=[NAVY, GREEN])),
    ).properties(width=WIDTH, height=190)
    return to_png(chart)


def history_chart(history: pd.DataFrame, lang: str) -> bytes:
    """Six months: received as bars, resolution rate as a line on its own axis."""
    frame = history[["month", "received", "resolution_rate"]].copy()
    frame["label"] = [f"{SHORT_MONTHS[lang][int(m[5:7]) - 1]} {m[2:4]}" for m in frame["month"]]
    order = list(frame["label"])
    base = alt.Chart(frame).encode(x=alt.X("label:N", sort=order, title=None, axis=alt.Axis(labelAngle=0)))
    bars = base.mark_bar(color=NAVY, opacity=0.85, size=38).encode(
        y=alt.Y("received:Q", title=word("received", lang), axis=alt.Axis(labelExpr=_thousands(lang))))
    line = base.mark_line(color=ORANGE, strokeWidth=2.5, point=alt.OverlayMarkDef(color=ORANGE, size=40)).encode(
        y=alt.Y("resolution_rate:Q", title=word("resolution_rate", lang),
                axis=alt.Axis(format="%", titleColor=ORANGE), scale=alt.Scale(domain=[0, 1])))
    chart = alt.layer(bars, line).resolve_scale(y="independent").properties(width=WIDTH, height=170)
    return to_png(chart)


def bar_chart(frame: pd.DataFrame, lang: str, color: str = NAVY, width: int = 120) -> bytes:
    """Top rows of a (label, count) frame as horizontal bars with their counts."""
    frame = frame.assign(display=[_int(n, lang) for n in frame["count"]])
    order = list(frame["label"])
    base = alt.Chart(frame).encode(y=alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=190)),
                                   x=alt.X("count:Q", title=None, axis=None))
    bars = base.mark_bar(color=color, size=13)
    text = base.mark_text(align="left", dx=3, fontSize=11, color="#333").encode(
        text=alt.Text("display:N"))
    chart = alt.layer(bars, text).properties(width=width, height=max(80, 20 * len(frame)))
    return to_png(chart)


def _int(value, lang: str) -> str:
    text = f"{int(value):,}"
    return text.replace(",", ".") if lang == "id" else text
