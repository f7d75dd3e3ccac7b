"""The response-times page in a real Chromium: figures, charts with the SLA line, both languages."""
from __future__ import annotations

import re

from tests.browser import SCREENSHOTS, exceptions, open_page

# Tall enough that the whole page is in the screenshot (Streamlit scrolls inside its own container).
SIZE = {"width": 1600, "height": 2700}
CHARTS = 4  # distribution, breakdown, weekly small multiples, open-complaint age


def settle(page) -> None:
    """Close Streamlit's "Page not found" notice, then wait for the page and all its charts.

    With a pages/ folder beside app.py, Streamlit first resolves a new session's URL against the folder's file
    names (response_times), finds no "response", shows the notice and runs app.py, whose st.navigation then
    serves the right page. The notice is a known glitch of the folder layout, not of this page.
    """
    if page.get_by_text("Page not found", exact=True).count():
        page.keyboard.press("Escape")
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=90_000)
    page.wait_for_function(f"() => document.querySelectorAll('[data-testid=stVegaLiteChart] svg.marks, "
                           f"[data-testid=stVegaLiteChart] canvas').length >= {CHARTS}", timeout=60_000)
    page.wait_for_timeout(1000)


def test_response_page_draws_distribution_breakdown_weekly_and_open_age(dashboard, browser):
    # A server's very first request for a deep link can end on the default page (see settle): when this test
    # runs alone, open the app once first, as a visitor would.
    open_page(browser, dashboard.url).close()
    page = open_page(browser, f"{dashboard.url}/response", **SIZE)
    settle(page)
    assert exceptions(page) == []
    assert page.locator("h1").all_inner_texts() == ["Waktu respons"]
    for heading in ("Sebaran waktu respons pertama", "Median dan P90 per kanal", "Median dan P90 per minggu",
                    "Umur aduan yang masih terbuka"):
        assert page.get_by_text(heading, exact=True).count() == 1, heading
    values = page.locator("[data-testid=stMetricValue]").all_inner_texts()
    assert len(values) >= 6 and sum(bool(re.search(r"\d", v)) for v in values) >= 5
    assert page.locator("[data-testid=stVegaLiteChart]").count() == CHARTS
    assert page.get_by_text("Garis merah putus-putus", exact=False).count() == 1  # the SLA target is explained
    page.screenshot(path=str(SCREENSHOTS / "response.png"), full_page=True)

    english = open_page(browser, f"{dashboard.url}/response?lang=en", **SIZE)
    settle(english)
    assert exceptions(english) == []
    assert english.get_by_text("Distribution of first-response times", exact=True).count() == 1
    assert english.get_by_text("Age of complaints still open", exact=True).count() == 1
    english.screenshot(path=str(SCREENSHOTS / "response_en.png"), full_page=True)
