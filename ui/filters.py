"""The shared filters: one place in the sidebar, kept across pages in the session and mirrored in the URL,
so a link reproduces the view (?period=30&district=genteng,tegalsari&lang=en)."""
from __future__ import annotations

import inspect
from datetime import date, datetime, timedelta
from pathlib import Path

import streamlit as st

from metrics import Filters
from metrics import queries
from ui import context
from ui.i18n import label, t

PERIODS = ("7", "30", "90", "365", "custom")
DIMENSIONS = ("channel", "district", "agency", "category")
FILTER_FIELD = {"channel": "channels", "district": "districts", "agency": "agencies", "category": "categories"}
KEEP_PARAMS = ("lang", "kiosk", "demo", "complaint")  # other pages' parameters, carried along


def _from_url() -> None:
    """Seed the session's filter state from the URL once, so shared links open the same view."""
    if st.session_state.get("_filters_loaded"):
        return
    params = st.query_params
    st.session_state["f_period"] = params.get("period", "30") if params.get("period") in PERIODS else "30"
    for dim in DIMENSIONS:
        raw = params.get(dim, "")
        st.session_state[f"f_{dim}"] = [v for v in raw.split(",") if v]
    for key in ("from", "to"):
        try:
            st.session_state[f"f_{key}"] = date.fromisoformat(params.get(key, ""))
        except ValueError:
            pass
    st.session_state["_filters_loaded"] = True


def _to_url(filters: Filters) -> None:
    wanted = {key: st.query_params[key] for key in KEEP_PARAMS if key in st.query_params}
    period = st.session_state["f_period"]
    if period != "30":
        wanted["period"] = period
    if period == "custom":
        wanted["from"], wanted["to"] = filters.start.isoformat(), filters.end.isoformat()
    for dim in DIMENSIONS:
        if st.session_state.get(f"f_{dim}"):
            wanted[dim] = ",".join(st.session_state[f"f_{dim}"])
    if dict(st.query_params) != wanted:
        st.query_params.from_dict(wanted)


def _options():
    engine = context.engine()
    lang = st.session_state.get("lang", "id")
    return {
        "channel": sorted(context.region().enabled_channels()),
        "district": queries.district_names(engine),
        "agency": queries.agency_names(engine),
        "category": queries.category_labels(engine, lang),
    }


def today() -> date:
    return datetime.now(context.region().timezone).date()


def current() -> Filters:
    """The filters as they stand, without drawing anything (kiosk pages use this)."""
    _from_url()
    period = st.session_state.get("f_period", "30")
    end = today()
    if period == "custom":
        start = st.session_state.get("f_from") or end - timedelta(days=29)
        end = st.session_state.get("f_to") or end
        if start > end:
            start, end = end, start
    else:
        start = end - timedelta(days=int(period) - 1)
    return Filters(start=start, end=end,
                   **{FILTER_FIELD[dim]: tuple(st.session_state.get(f"f_{dim}", [])) for dim in DIMENSIONS})


WIDGET_KEYS = ("f_period", "f_from", "f_to", *(f"f_{dim}" for dim in DIMENSIONS))


def _restore_widget_values() -> None:
    """Streamlit drops widget values when the page changes; keep a copy under other keys and put it back."""
    for key in WIDGET_KEYS:
        if key not in st.session_state and f"_keep_{key}" in st.session_state:
            st.session_state[key] = st.session_state[f"_keep_{key}"]


def _keep_widget_values() -> None:
    for key in WIDGET_KEYS:
        if key in st.session_state:
            st.session_state[f"_keep_{key}"] = st.session_state[key]


def sidebar() -> Filters:
    """Draw the filters in the sidebar and return them."""
    _from_url()
    _restore_widget_values()
    options = _options()
    with st.sidebar:
        st.subheader(t("filters"))
        # Labels are computed now, not inside format_func: it may be called outside this run's language.
        period_labels = {p: t(f"period_{p}") for p in PERIODS}
        st.selectbox(t("period"), PERIODS, key="f_period", format_func=period_labels.__getitem__)
        if st.session_state["f_period"] == "custom":
            end = today()
            st.session_state.setdefault("f_from", end - timedelta(days=29))
            st.session_state.setdefault("f_to", end)
            st.date_input(t("dates"), key="f_from", max_value=end)
            st.date_input(t("dates"), key="f_to", max_value=end, label_visibility="collapsed")
        options["channel"] = {c: label("channel", c) for c in options["channel"]}
        for dim in DIMENSIONS:
            choices = list(options[dim])
            names = options[dim]
            # keep only values this region knows (a link from another region must not break the page)
            st.session_state[f"f_{dim}"] = [v for v in st.session_state.get(f"f_{dim}", []) if v in choices]
            st.multiselect(t(dim), choices, key=f"f_{dim}", format_func=lambda code, names=names: names.get(code, code), placeholder=t("all"))
        if st.button(t("reset_filters"), width="stretch"):
            for dim in DIMENSIONS:
                st.session_state[f"f_{dim}"] = []
            st.session_state["f_period"] = "30"
            st.rerun()
    filters = current()
    _keep_widget_values()
    _to_url(filters)
    return filters


def shared() -> Filters:
    """The filters app.py drew for this run.

    On a server's very first request Streamlit may run a file from pages/ on its own (its older page
    discovery), before app.py ever ran: remember which page was asked for and hand over to app.py, which
    builds the navigation and comes back to it (return_to_requested_page).
    """
    if "filters" not in st.session_state:
        caller = Path(inspect.stack()[1].filename).resolve()
        st.session_state["_requested_page"] = f"pages/{caller.name}"
        st.switch_page("app.py", query_params=st.query_params.to_dict())  # ?kiosk=1, ?lang=en, filters
    return st.session_state["filters"]


def return_to_requested_page(pages_by_file: dict) -> None:
    """Open the page a first request asked for (see shared()), once app.py's navigation exists."""
    requested = st.session_state.pop("_requested_page", None)
    if requested in pages_by_file:
        st.switch_page(pages_by_file[requested], query_params=st.query_params.to_dict())
