"""Both languages, everywhere: every interface text exists in Bahasa Indonesia and English with the same
placeholders, every key the code asks for exists (a missing key shows up as the raw key), and numbers and
dates follow the chosen language. What a browser shows per language is checked in tests/test_kiosk.py."""
from __future__ import annotations

import ast
import string
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
import streamlit as st

from tests.conftest import PROJECT_ROOT

# Where interface text is written: the app, its pages, its interface modules and the scorecard reports.
SOURCES = sorted([PROJECT_ROOT / "app.py", *(PROJECT_ROOT / "pages").glob("*.py"), *(PROJECT_ROOT / "ui").glob("*.py"),
                  *(PROJECT_ROOT / "reports").glob("*.py")])


def _calls(tree: ast.AST, name: str):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name and node.args:
            yield node


def registered() -> dict[str, list[tuple[tuple, Path]]]:
    """Every (key -> [(pair, file)]) of ui/i18n.py's table and of every register({...}) in the sources, read from
    the source: a page is a Streamlit script, importing it would run it."""
    from ui import i18n

    found: dict[str, list[tuple[tuple, Path]]] = {}
    base = PROJECT_ROOT / "ui" / "i18n.py"
    tree = ast.parse(base.read_text(encoding="utf-8"))
    table = next(n.value for n in ast.walk(tree) if isinstance(n, ast.AnnAssign) and getattr(n.target, "id", "") == "STRINGS")
    for key, pair in ast.literal_eval(table).items():
        found.setdefault(key, []).append((pair, base))
    for path in SOURCES:
        for call in _calls(ast.parse(path.read_text(encoding="utf-8")), "register"):
            if not isinstance(call.args[0], ast.Dict):
                continue
            for key, value in zip(call.args[0].keys, call.args[0].values):
                if key is None:  # **{generated}: taken from the imported module below
                    continue
                found.setdefault(ast.literal_eval(key), []).append((ast.literal_eval(value), path))
    import ui.kiosk  # noqa: F401 - its generated keys (weekdays) are registered on import

    for key in ("weekday_0", "weekday_6"):
        found.setdefault(key, []).append((i18n.STRINGS[key], PROJECT_ROOT / "ui" / "kiosk.py"))
    return found


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_every_text_has_both_languages_with_the_same_placeholders():
    found = registered()
    assert len(found) > 300  # the pages' own texts were found, not just the base table
    problems = []
    for key, entries in found.items():
        pairs = {pair for pair, _ in entries}
        if len(pairs) > 1:
            problems.append(f"{key}: defined differently in {sorted({p.name for _, p in entries})}")
        for pair in pairs:
            if not (isinstance(pair, tuple) and len(pair) == 2 and all(isinstance(s, str) and s.strip() for s in pair)):
                problems.append(f"{key}: not an (Indonesian, English) pair of texts: {pair!r}")
            elif placeholders(pair[0]) != placeholders(pair[1]):
                problems.append(f"{key}: placeholders differ: {pair!r}")
    assert not problems, "\n".join(problems)


def test_every_key_the_code_asks_for_exists():
    """t("key") with a key nobody registered shows the key itself on screen: an untranslated string."""
    known = set(registered())
    missing = []
    for path in SOURCES:
        for call in _calls(ast.parse(path.read_text(encoding="utf-8")), "t"):
            first = call.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value not in known:
                missing.append(f"{path.relative_to(PROJECT_ROOT)}:{call.lineno}: {first.value}")
    assert not missing, "\n".join(missing)


@pytest.fixture
def language():
    def choose(lang: str) -> None:
        st.session_state["lang"] = lang

    yield choose
    st.session_state.pop("lang", None)


@pytest.mark.parametrize("lang, number, decimal, share, day, moment, hours, days, minutes", [
    ("id", "1.234.567", "1.234,5", "12,5%", "22 Nov 2026", "1 Des 2026 07:30", "5,2 j", "3,5 hr", "45 mnt"),
    ("en", "1,234,567", "1,234.5", "12.5%", "22 Nov 2026", "1 Dec 2026 07:30", "5.2 h", "3.5 d", "45 min"),
])
def test_numbers_and_dates_follow_the_language(language, lang, number, decimal, share, day, moment, hours, days,
                                               minutes):
    from zoneinfo import ZoneInfo

    from ui.i18n import fmt_date, fmt_float, fmt_hours, fmt_int, fmt_pct

    language(lang)
    assert fmt_int(1234567) == number
    assert fmt_float(1234.5) == decimal
    assert fmt_pct(0.125, 1) == share
    assert fmt_date(date(2026, 11, 22)) == day
    # stored in UTC, shown in the region's zone: 00:30 UTC is 07:30 WIB
    assert fmt_date(datetime(2026, 12, 1, 0, 30, tzinfo=timezone.utc), ZoneInfo("Asia/Jakarta"), with_time=True) == moment
    assert (fmt_hours(5.2), fmt_hours(84), fmt_hours(0.75)) == (hours, days, minutes)


def test_a_language_from_the_url_or_nowhere(language):
    from ui.i18n import language as current
    from ui.i18n import t

    language("en")
    assert (current(), t("nav_overview")) == ("en", "Overview")
    language("xx")  # anything else falls back to Bahasa Indonesia
    assert (current(), t("nav_overview")) == ("id", "Ringkasan")
