"""Map: districts coloured by a chosen figure, where complaints cluster, and the newest ones as points.

Works offline: no basemap unless switched on; the district polygons and their names give the context.
Clicking a district (or a complaint in it) sets the shared district filter for every page.
"""
from __future__ import annotations

import json
from dataclasses import replace
from functools import partial
from html import escape

import numpy as np
import pandas as pd
import pydeck as pdk
import streamlit as st
from pydeck.bindings.json_tools import default_serialize

from metrics import geo, queries
from regions import load_region
from ui import context
from ui import filters as ui_filters
from ui.i18n import fmt_date, fmt_float, fmt_hours, fmt_int, fmt_pct, label, language, register, t

register({
    "map_metric": ("Warna kecamatan", "District colour"),
    "map_metric_received": ("Jumlah aduan", "Complaints"),
    "map_metric_per_10k": ("Per 10.000 penduduk", "Per 10,000 residents"),
    "map_metric_overdue_share": ("Porsi lewat tenggat", "Overdue share"),
    "map_density": ("Kepadatan", "Density"),
    "map_points": ("Aduan terbaru", "Recent complaints"),
    "map_basemap": ("Peta dasar (perlu internet)", "Basemap (needs internet)"),
    "map_hint": ("Klik kecamatan untuk memfilter semua halaman; klik lagi untuk membatalkan.",
                 "Click a district to filter every page; click it again to clear."),
    "map_located": ("{n} dari {total} aduan periode ini berkoordinat",
                    "{n} of {total} complaints in the period have coordinates"),
    "map_no_district": ("{n} aduan tanpa kecamatan", "{n} complaints without a district"),
    "map_density_legend": ("Kepadatan aduan per sel ±{m} m", "Complaints per ±{m} m cell"),
    "map_points_legend": ("{n} aduan terbaru", "{n} newest complaints"),
    "map_done": ("Selesai / ditutup", "Resolved / closed"),
    "map_no_value": ("Tidak ada data", "No data"),
    "map_approx": ("Batas kecamatan perkiraan (dari titik pusat)", "Approximate district boundaries (from centroids)"),
    "map_boundary_error": ("Berkas batas wilayah tidak bisa dipakai ({error}); memakai batas perkiraan.",
                           "The boundary file cannot be used ({error}); showing approximate boundaries."),
    "map_max": ("maks. {n} per sel", "max. {n} per cell"),
    "map_selected": ("Kecamatan terpilih", "Selected district"),
    "map_alt": ("Peta kecamatan dengan kepadatan aduan", "District map with complaint density"),
    "map_col_count": ("Aduan", "Complaints"),
    "map_col_per_10k": ("/10rb", "/10k"),
    "map_col_overdue": ("Lewat", "Overdue"),
    "map_overdue_share": ("Lewat tenggat (terbuka)", "Overdue (of open)"),
})

METRICS = tuple(geo.CHOROPLETH)
MAP_HEIGHT = 640
MAP_WIDTH = 800  # the narrowest the map is drawn (a laptop); wider screens get a margin
DARK, LIGHT = "dark", "light"
# Sequential blues (low -> high), then the colours of everything drawn over them, per theme.
PALETTE = {
    DARK: {"ramp": [(28, 45, 74), (32, 76, 122), (38, 112, 170), (72, 156, 214), (140, 204, 245)],
           "outline": (205, 215, 230), "none": (70, 74, 82), "text": (235, 240, 248), "halo": (14, 17, 23),
           "open": (250, 250, 250), "done": (150, 160, 175), "overdue": (255, 77, 109), "select": (255, 214, 10)},
    LIGHT: {"ramp": [(222, 235, 247), (178, 208, 234), (115, 171, 214), (55, 126, 188), (18, 78, 146)],
            "outline": (255, 255, 255), "none": (215, 218, 222), "text": (20, 28, 40), "halo": (255, 255, 255),
            "open": (25, 25, 30), "done": (125, 130, 140), "overdue": (214, 36, 80), "select": (235, 120, 0)},
}
DENSITY_LOW, DENSITY_HIGH = (255, 225, 110, 130), (240, 50, 30, 240)  # yellow (few) -> red (many), over the blues
FILL_ALPHA = 215
FONT = "'Source Sans, Source Sans Pro, Helvetica Neue, Arial, sans-serif'"  # quoted: a literal for pydeck
BASEMAP = {DARK: pdk.map_styles.CARTO_DARK, LIGHT: pdk.map_styles.CARTO_LIGHT}


# --- data ---------------------------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=16)
def _polygons(region_path: str, boundary_file: str, mtime: float, approximate: bool = False) -> dict:
    """District polygons, cached per region folder, boundary file and its modification time."""
    return geo.district_geojson(load_region(region_path), simplify=True, approximate=approximate)


def polygons(region) -> dict:
    path = region.boundary_path()
    mtime = path.stat().st_mtime if path is not None and path.exists() else 0.0
    try:
        return _polygons(str(region.path), str(path or ""), mtime)
    except ValueError as exc:
        st.warning(t("map_boundary_error", error=exc))
        return _polygons(str(region.path), str(path or ""), mtime, approximate=True)


# --- colours and legends ------------------------------------------------------------------------


def theme() -> str:
    """The browser's theme. The browser reports 'light' on its very first run whatever it shows, so the
    map's first run in a session trusts the configured theme (theme.base) when there is one."""
    first = not st.session_state.get("map_theme_known")
    st.session_state["map_theme_known"] = True
    kind = (st.get_option("theme.base") if first else None) or st.context.theme.type
    return DARK if kind == DARK else LIGHT


def breaks(values: pd.Series, classes: int = 5) -> list[float]:
    """Upper bounds of up to `classes` quantile classes (the last class is open-ended)."""
    valid = values.dropna().astype(float)
    if valid.empty:
        return []
    return sorted(set(np.quantile(valid, np.linspace(0, 1, classes + 1)[1:-1]).round(6)) - {valid.max()})


def ramp_colour(value, bounds: list[float], colours: dict) -> list[int]:
    if value is None or pd.isna(value):
        return [*colours["none"], 160]
    ramp = colours["ramp"]
    index = int(np.searchsorted(bounds, value, side="left"))
    # spread the classes actually present over the whole ramp
    step = (len(ramp) - 1) / max(len(bounds), 1)
    return [*ramp[round(index * step)], FILL_ALPHA]


def formatter(metric: str):
    return {"received": fmt_int, "per_10k": fmt_float, "overdue_share": fmt_pct}[metric]


def density_cells(grid: pd.DataFrame) -> list[dict]:
    """Grid cells as {p: [lon, lat], c: colour}, the colour by count against the busiest cell, computed for every
    cell at once (one by one, this was the largest part of a cached rerun at 1M complaints)."""
    counts = grid["count"].to_numpy(dtype=float)
    share = np.sqrt(counts / max(counts.max(), 1))[:, None]  # hotspots stand out, single complaints stay faint
    low, high = np.array(DENSITY_LOW, dtype=float), np.array(DENSITY_HIGH, dtype=float)
    colours = np.rint(low + (high - low) * share).astype(int).tolist()
    places = np.column_stack([grid["lon"].to_numpy(dtype=float).round(4), grid["lat"].to_numpy(dtype=float).round(4)])
    return [{"p": p, "c": c} for p, c in zip(places.tolist(), colours)]


def _swatch(colour, text: str, shape: str = "square") -> str:
    radius = "50%" if shape == "dot" else "3px"
    rgb = f"rgb({colour[0]},{colour[1]},{colour[2]})"
    return (f'<span style="display:inline-flex;align-items:center;margin-right:14px;white-space:nowrap">'
            f'<span style="width:14px;height:14px;border-radius:{radius};background:{rgb};'
            f'display:inline-block;margin-right:6px;border:1px solid rgba(128,128,128,.6)"></span>'
            f'{escape(text)}</span>')


def legend(metric: str, bounds: list[float], colours: dict, extra: list[str]) -> str:
    fmt = formatter(metric)
    ramp = colours["ramp"]
    step = (len(ramp) - 1) / max(len(bounds), 1)
    items = [_swatch(ramp[round(i * step)], f"≤ {fmt(b)}") for i, b in enumerate(bounds)]
    items.append(_swatch(ramp[round(len(bounds) * step)], f"> {fmt(bounds[-1])}" if bounds else t("all")))
    items.append(_swatch(colours["none"], t("map_no_value")))
    title = f"<b>{escape(t('map_metric_' + metric))}</b>&nbsp;&nbsp;"
    return (f'<div style="font-size:0.95rem;line-height:2">{title}{"".join(items)}</div>'
            + "".join(f'<div style="font-size:0.95rem;line-height:2">{row}</div>' for row in extra))


# --- layers ---------------------------------------------------------------------------------------


class CompactDeck(pdk.Deck):
    """A Deck with compact JSON: pydeck's two-space indent and \\u escapes more than double the payload."""

    def to_json(self) -> str:
        return json.dumps(self, sort_keys=True, default=default_serialize, separators=(",", ":"),
                          ensure_ascii=False)


def district_features(collection: dict, values: pd.DataFrame, metric: str, colours: dict) -> tuple[dict, list]:
    """Copy the polygons with each district's colour and tooltip; returns (collection, class bounds)."""
    rows = values.set_index("district_code")
    bounds = breaks(rows[geo.CHOROPLETH[metric]])
    features = []
    for feature in collection["features"]:
        code = feature["properties"]["code"]
        row = rows.loc[code] if code in rows.index else None
        value = None if row is None else row[geo.CHOROPLETH[metric]]
        properties = {**feature["properties"], "fill": ramp_colour(value, bounds, colours),
                      "tip": district_tip(feature["properties"]["name"], row)}
        features.append({**feature, "properties": properties})
    return {"type": "FeatureCollection", "features": features}, bounds


def district_tip(name: str, row) -> str:
    if row is None:
        return name
    return "\n".join([
        name,
        f"{t('received')}: {fmt_int(row['received'])}",
        f"{t('map_metric_per_10k')}: {fmt_float(row['per_10k'])}",
        f"{t('map_overdue_share')}: {fmt_pct(row['overdue_share'])} "
        f"({fmt_int(row['overdue'])}/{fmt_int(row['open'])})",
    ])


@st.cache_data(ttl=context.CACHE_SECONDS, show_spinner=False, max_entries=64)
def point_records(points: pd.DataFrame, colours: dict, lang: str) -> list[dict]:
    """Up to POINT_LIMIT tooltips built once per data and language, not on every rerun (~0.3 s at 1M)."""
    categories = context.query(queries.category_labels, lang)
    agencies = context.query(queries.agency_names)
    districts = context.query(queries.district_names)
    records = []
    for p in points.itertuples(index=False):
        state = "overdue" if p.overdue else ("open" if p.status in queries.OPEN else "done")
        records.append({  # short keys: up to POINT_LIMIT of these travel to the browser on every rerun
            "p": [p.lon, p.lat], "c": [*colours[state], 230], "d": p.district_code,
            "tip": "\n".join([
                f"{categories.get(p.category, p.category or t('unknown'))} · "
                f"{agencies.get(p.agency_code, p.agency_code or '–')}",
                f"{label('status', p.status)}{' · ' + t('overdue') if p.overdue else ''}",
                f"{t('age')} {fmt_hours(p.age_h)} · {districts.get(p.district_code, t('unknown'))}",
            ]),
        })
    return records


def layers(features: dict, selected: list[str], grid: pd.DataFrame, points: list[dict], colours: dict) -> list:
    out = [pdk.Layer("GeoJsonLayer", features, id="districts", pickable=True, stroked=True, filled=True,
                     get_fill_color="properties.fill", get_line_color=[*colours["outline"], 200],
                     line_width_min_pixels=1, line_width_max_pixels=2, auto_highlight=True,
                     highlight_color=[*colours["select"], 90])]
    if not grid.empty:
        out.append(pdk.Layer("ColumnLayer", density_cells(grid), id="density", pickable=False, extruded=False,
                             disk_resolution=4, angle=45, radius=grid.attrs["cell_m"] / 2 ** 0.5, coverage=0.92,
                             get_position="p", get_fill_color="c"))
    chosen = [f for f in features["features"] if f["properties"]["code"] in selected]
    if chosen:
        out.append(pdk.Layer("GeoJsonLayer", {"type": "FeatureCollection", "features": chosen}, id="selected",
                             pickable=False, stroked=True, filled=False, get_line_color=[*colours["select"], 255],
                             line_width_min_pixels=4))
    if points:
        out.append(pdk.Layer("ScatterplotLayer", points, id="points", pickable=True, get_position="p",
                             get_fill_color="c", get_radius=3, radius_units="'pixels'", stroked=True,
                             get_line_color=[*colours["halo"], 150], line_width_min_pixels=0.5))
    names = [{"position": [f["properties"]["label_lon"], f["properties"]["label_lat"]],
              "text": f["properties"]["name"]} for f in features["features"]]
    out.append(pdk.Layer("TextLayer", names, id="names", pickable=False, get_position="position", get_text="text",
                         get_size=13, size_units="'pixels'", font_family=FONT, font_weight=600,
                         get_color=[*colours["text"], 235], font_settings={"sdf": True}, outline_width=3,
                         outline_color=[*colours["halo"], 230], get_text_anchor="'middle'",
                         get_alignment_baseline="'center'"))
    return out


def deck(map_layers: list, view: dict, basemap: str | None) -> pdk.Deck:
    """No basemap by default (map_provider=None works offline); `basemap` is a Carto style URL."""
    style = {"map_provider": "carto", "map_style": basemap} if basemap else {"map_provider": None}
    tooltip = {"text": "{tip}", "style": {"fontSize": "15px", "whiteSpace": "pre-line", "color": "#f2f5fa",
                                          "backgroundColor": "rgba(20,24,32,0.95)", "borderRadius": "6px"}}
    return CompactDeck(layers=map_layers, initial_view_state=pdk.ViewState(**view, pitch=0), tooltip=tooltip,
                       **style)


# --- clicking a district --------------------------------------------------------------------------


def picked_district(selection) -> str | None:
    """The district code of the clicked polygon, or of the district of the clicked complaint."""
    objects = (selection or {}).get("objects") or {}
    for layer, picked in objects.items():
        for obj in picked or []:
            code = (obj.get("properties") or {}).get("code") if layer == "districts" else obj.get("d")
            if code:
                return code
    return None


def on_select(key: str) -> None:
    """Runs before the rerun: set (or clear) the shared district filter, then start a fresh selection."""
    state = st.session_state.get(key)
    code = picked_district(state.selection if state is not None else None)
    if code:
        current = list(st.session_state.get("f_district") or [])
        st.session_state["f_district"] = [] if current == [code] else [code]
    # A new chart key drops the chart's own selection styling, which would grey out the choropleth.
    st.session_state["map_round"] = st.session_state.get("map_round", 0) + 1


def legend_rows(grid: pd.DataFrame, points: pd.DataFrame, selected: list[str], colours: dict) -> list[str]:
    rows = []
    if not grid.empty:
        rows.append(_swatch(DENSITY_LOW, t("map_density_legend", m=fmt_int(grid.attrs["cell_m"])))
                    + _swatch(DENSITY_HIGH, t("map_max", n=fmt_int(grid["count"].max()))))
    if not points.empty:
        rows.append(f"<b>{escape(t('map_points_legend', n=fmt_int(len(points))))}</b>&nbsp;&nbsp;"
                    + _swatch(colours["open"], t("open"), "dot") + _swatch(colours["overdue"], t("overdue"), "dot")
                    + _swatch(colours["done"], t("map_done"), "dot"))
    if selected:
        names = context.query(queries.district_names)
        rows.append(_swatch(colours["select"], f"{t('map_selected')}: " + ", ".join(names.get(c, c) for c in selected)))
    return rows


def notes(values: pd.DataFrame, grid: pd.DataFrame, selected: list[str], source: str) -> str:
    """How many complaints of the (filtered) period the density layer can place, and where the polygons come from."""
    unknown = 0 if selected else values.attrs.get("unknown_district", 0)
    chosen = values[values["district_code"].isin(selected)] if selected else values
    out = [t("map_located", n=fmt_int(grid["count"].sum()), total=fmt_int(chosen["received"].sum() + unknown))]
    if unknown:
        out.append(t("map_no_district", n=fmt_int(unknown)))
    if source == "approximate":
        out.append(t("map_approx"))
    return " · ".join(out)


def district_table(values: pd.DataFrame, metric: str, selected: list[str]) -> dict:
    table = values.assign(chosen=values["district_code"].isin(selected))  # selected districts first
    table = table.sort_values(["chosen", geo.CHOROPLETH[metric], "received"], ascending=False, na_position="last")
    return {
        t("district"): [("▶ " if c in selected else "") + n for c, n in zip(table["district_code"], table["district"])],
        t("map_col_count"): [fmt_int(v) for v in table["received"]],
        t("map_col_per_10k"): [fmt_float(v) for v in table["per_10k"]],
        t("map_col_overdue"): [fmt_pct(v) for v in table["overdue_share"]],
    }


# --- page -------------------------------------------------------------------------------------------

region = context.region()
tz = region.timezone
filters = ui_filters.shared()
now = context.now()
mode = theme()
colours = PALETTE[mode]

st.title(t("nav_map"))
st.caption(f"{region.display_name} · {fmt_date(filters.start)} – {fmt_date(filters.end)} · {t('map_hint')}")

controls = st.columns([3, 1, 1, 2])
metric = controls[0].segmented_control(t("map_metric"), METRICS, default="received", key="map_metric",
                                       format_func=lambda m: t(f"map_metric_{m}")) or "received"
show_density = controls[1].toggle(t("map_density"), value=True, key="map_show_density")
show_points = controls[2].toggle(t("map_points"), value=True, key="map_show_points")
basemap = controls[3].toggle(t("map_basemap"), value=False, key="map_basemap")

# The choropleth always covers the whole city (so another district can be picked); the rest follows every filter.
values = context.query(queries.district_counts, replace(filters, districts=()), now, tz)
grid = context.query(geo.density_grid, filters, tz, geo.CELL_M, float(region.map_view.get("lat", 0.0)))
points = context.query(geo.recent_points, filters, now, tz, geo.POINT_LIMIT) if show_points else geo.no_points()
selected = list(filters.districts)

collection = polygons(region)
features, bounds = district_features(collection, values, metric, colours)
shown_grid = grid if show_density else grid.iloc[0:0]
map_layers = layers(features, selected, shown_grid, point_records(points, colours, language()), colours)
view = geo.fit_view(collection["bbox"], MAP_WIDTH, MAP_HEIGHT, region.map_view.get("zoom"))
chart = deck(map_layers, view, BASEMAP[mode] if basemap else None)

left, right = st.columns([2, 1])
with left:
    key = f"district_map_{st.session_state.get('map_round', 0)}"
    st.pydeck_chart(chart, height=MAP_HEIGHT, on_select=partial(on_select, key), selection_mode="single-object",
                    key=key, alt=t("map_alt"))
    st.markdown(legend(metric, bounds, colours, legend_rows(shown_grid, points, selected, colours)),
                unsafe_allow_html=True)
    st.caption(notes(values, grid, selected, collection.get("source")))
with right:
    st.dataframe(district_table(values, metric, selected), hide_index=True, width="stretch", height=MAP_HEIGHT)
