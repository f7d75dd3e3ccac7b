"""Altair helpers: axes and number formats in the chosen language (Vega's own locale is English-only here)."""
from __future__ import annotations

import altair as alt

from ui.i18n import _MONTHS_EN, _MONTHS_ID, language


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
