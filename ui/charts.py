"""Altair helpers: axes and number formats in the chosen language (Vega's own locale is English-only here), and
drawing charts from a cached Vega-Lite spec.

`show(build, *args)` draws the chart `build(*args)` returns. Building an Altair chart and turning it into a spec
(schema validation, deep copies) took 0.15-0.6 s per page on every rerun (`python -m bench`), more than the
data; the spec is now made once per (builder, arguments, language) and kept as long as the metric results, and
without schema validation: the builders are fixed code, validated in the tests (SIGAP_VALIDATE_CHARTS=1).
"""
from __future__ import annotations

import os
import threading

import altair as alt
import streamlit as st
from altair.utils.schemapi import debug_mode

from ui.context import CACHE_SECONDS
from ui.i18n import _MONTHS_EN, _MONTHS_ID, language

_ALTAIR_GLOBALS = threading.RLock()  # Altair's theme and validation switches are process-wide


def _validating() -> bool:
    return os.environ.get("SIGAP_VALIDATE_CHARTS") == "1"


def to_spec(chart) -> dict:
    """The Vega-Lite dict of an Altair chart, data inline, without Altair's default width/height theme."""
    with _ALTAIR_GLOBALS, alt.theme.enable("none"), alt.data_transformers.disable_max_rows():
        return chart.to_dict(validate=_validating())


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False, max_entries=256)
def _spec(where: str, name: str, lang: str, _build, args: tuple) -> dict:
    # Altair's debug mode also validates every part of a chart as it is built (half of the building time)
    with _ALTAIR_GLOBALS, debug_mode(_validating()):
        return to_spec(_build(*args))


def show(build, *args, width="stretch") -> None:
    """Draw build(*args) (an Altair chart); every value the chart depends on must be among `args`."""
    code = build.__code__
    st.vega_lite_chart(_spec(f"{code.co_filename}:{code.co_firstlineno}", build.__qualname__, language(), build,
                             args), width=width)


def _months() -> str:
    names = _MONTHS_EN if language() == "en" else _MONTHS_ID
    return "[" + ",".join(f"'{m}'" for m in names) + "]"


def date_axis(title: str | None = None, **kwargs) -> alt.Axis:
    """'22 Nov' ticks with Indonesian or English month names."""
    return alt.Axis(title=title, labelExpr=f"date(datum.value) + ' ' + {_months()}[month(datum.value)]", **kwargs)


def number_axis(title: str | None = None, **kwargs) -> alt.Axis:
    """Thousands separated by '.' in Indonesian, ',' in English."""
    expr = "format(datum.value, ',')"
    if language() == "id":
        expr = f"replace({expr}, /,/g, '.')"
    return alt.Axis(title=title, labelExpr=expr, **kwargs)
