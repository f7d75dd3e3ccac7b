"""The overview page in a real Chromium: it renders real numbers and a chart, in both languages."""
from __future__ import annotations

import re

from tests.browser import SCREENSHOTS, exceptions, open_page


def test_overview_shows_numbers_and_chart(dashboard, browser):
    page = open_page(browser, f"{dashboard.url}/")
    page.wait_for_selector("[data-testid=stMetricValue]", timeout=60_000)
    assert exceptions(page) == []
    assert page.get_by_text("Aduan masuk").count() >= 1
    values = page.locator("[data-testid=stMetricValue]").all_inner_texts()
    assert values and any(re.search(r"\d", v) and v.strip() != "0" for v in values)
    page.wait_for_selector("canvas, svg.marks", timeout=30_000)
    page.screenshot(path=str(SCREENSHOTS / "overview_id.png"), full_page=True)

    english = open_page(browser, f"{dashboard.url}/?lang=en")
    english.wait_for_selector("[data-testid=stMetricValue]", timeout=60_000)
    assert english.get_by_text("Complaints received").count() >= 1
    english.screenshot(path=str(SCREENSHOTS / "overview_en.png"), full_page=True)
