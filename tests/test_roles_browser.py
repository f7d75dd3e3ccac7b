"""Roles in a real Chromium: each role signs in through the sidebar and sees exactly its pages; an agency head
who types the admin URL is refused; a wrong password is refused. Runs on a copy of the seeded database with
accounts made for the test. Screenshots: tests/screenshots/roles_*.png."""
from __future__ import annotations

import ast
import re

import pytest

from tests.browser import SCREENSHOTS, Dashboard, exceptions, open_page
from tests.conftest import PROJECT_ROOT
from tests.test_auth import PASSWORDS, copy_seeded, make_users
from ui.auth import visible_pages
from ui.i18n import STRINGS

APP = PROJECT_ROOT / "app.py"
WIRED = bool(re.search(r"\bauth\.(sidebar|visible_pages)\(", APP.read_text(encoding="utf-8")))
pytestmark = pytest.mark.skipif(
    not WIRED, reason="app.py does not filter its navigation by role yet (needs auth.visible_pages and "
                      "auth.sidebar, see ui/auth.py): the role pages cannot be reached in a browser before that")
ACCOUNTS = {"operator": "operator.112", "agency_head": "kadis.dsdabm", "admin": "admin.kominfo"}


def app_pages() -> list[tuple]:
    """app.py's PAGES list, read from its source, limited to page files that exist."""
    tree = ast.parse(APP.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "PAGES" for t in node.targets):
            try:
                pages = ast.literal_eval(node.value)
            except ValueError:
                continue
            return [p for p in pages if (PROJECT_ROOT / p[0]).exists()]
    raise AssertionError("no PAGES list in app.py")


def expected_titles(role: str) -> set[str]:
    return {STRINGS[title][0] for _, title, _, _ in visible_pages(role, app_pages())}


@pytest.fixture(scope="module")
def roles_app(seeded_url, tmp_path_factory):
    from models.db import get_engine

    url = copy_seeded(seeded_url, tmp_path_factory.mktemp("roles_browser") / "sigap.db")
    make_users(get_engine(url))
    app = Dashboard(url)
    yield app
    app.stop()


def nav_titles(page) -> set[str]:
    # app.py's own navigation (Streamlit may first show its file-based one, before app.py has run)
    page.wait_for_selector("[data-testid=stSidebarNavLink]:has-text('Ringkasan')", timeout=60_000)
    texts = page.locator("[data-testid=stSidebarNavLink]").all_inner_texts()
    return {t.strip().splitlines()[-1].strip() for t in texts if t.strip()}  # the title, after any icon


def settle(page, ms: int = 1200) -> None:
    page.wait_for_timeout(ms)
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=90_000)
    page.wait_for_timeout(ms)


def sign_in(page, username: str, password: str, succeeds: bool = True) -> None:
    sidebar = page.locator("[data-testid=stSidebar]")
    sidebar.get_by_text("Masuk petugas").click()
    sidebar.get_by_label("Nama pengguna").fill(username)
    sidebar.get_by_label("Kata sandi", exact=True).fill(password)
    sidebar.get_by_role("button", name="Masuk", exact=True).click()
    outcome = "Masuk sebagai" if succeeds else "Nama pengguna atau kata sandi salah."
    sidebar.get_by_text(outcome).first.wait_for(timeout=60_000)
    settle(page)


def test_the_public_wall_sees_only_public_pages(roles_app, browser):
    page = open_page(browser, roles_app.url)
    assert exceptions(page) == []
    assert nav_titles(page) == expected_titles("wall")
    assert not nav_titles(page) & {"OPD saya", "Administrasi"}
    page.screenshot(path=str(SCREENSHOTS / "roles_wall.png"), full_page=True)
    page.close()


@pytest.mark.parametrize("role, heading", [("operator", None), ("agency_head", "OPD saya · DSDABM"),
                                           ("admin", "Administrasi")])
def test_each_role_signs_in_and_reaches_exactly_its_pages(roles_app, browser, role, heading):
    page = open_page(browser, roles_app.url)
    sign_in(page, ACCOUNTS[role], PASSWORDS[ACCOUNTS[role]])
    assert exceptions(page) == []
    assert nav_titles(page) == expected_titles(role)
    assert page.locator("[data-testid=stSidebar]").get_by_text(ACCOUNTS[role]).count() >= 1
    if heading:  # agency heads land on their agency, administrators on administration
        page.wait_for_selector(f"h1:has-text('{heading}')", timeout=60_000)
        settle(page)
    page.screenshot(path=str(SCREENSHOTS / f"roles_{role}.png"), full_page=True)
    for title in sorted(expected_titles(role) - expected_titles("wall")):  # its own pages open, and are not refused
        page.locator("[data-testid=stSidebarNavLink]", has_text=title).first.click()
        page.wait_for_selector(f"h1:has-text('{title}')", timeout=60_000)
        settle(page, 800)
        assert exceptions(page) == [], title
        assert page.get_by_text("tidak berwenang").count() == 0, title
    page.close()


def test_agency_head_typing_the_admin_url_is_refused(roles_app, browser):
    page = open_page(browser, roles_app.url)
    sign_in(page, ACCOUNTS["agency_head"], PASSWORDS[ACCOUNTS["agency_head"]])
    page.wait_for_selector("h1:has-text('OPD saya')", timeout=60_000)
    # within the signed-in session: the browser asks for /admin as the address bar would
    page.evaluate("() => { history.pushState({}, '', '/admin'); dispatchEvent(new PopStateEvent('popstate')); }")
    page.get_by_text("Anda tidak berwenang membuka halaman ini.").wait_for(timeout=60_000)
    settle(page)
    assert page.locator("h1:has-text('Administrasi')").count() == 0
    assert page.get_by_role("tab", name="Pengguna").count() == 0
    assert "Administrasi" not in nav_titles(page)
    page.screenshot(path=str(SCREENSHOTS / "roles_agency_head_admin_url.png"), full_page=True)
    # typed into the address bar: a new page load starts signed out, and the page asks to sign in first
    page.goto(f"{roles_app.url}/admin", timeout=90_000)
    page.locator("h1:has-text('Silakan masuk')").wait_for(timeout=60_000)
    settle(page)
    assert page.get_by_role("tab", name="Pengguna").count() == 0
    main = page.locator("[data-testid=stMain]")
    main.get_by_label("Nama pengguna").fill(ACCOUNTS["agency_head"])
    main.get_by_label("Kata sandi", exact=True).fill(PASSWORDS[ACCOUNTS["agency_head"]])
    main.get_by_role("button", name="Masuk", exact=True).click()
    page.get_by_text("Anda tidak berwenang membuka halaman ini.").wait_for(timeout=60_000)
    assert page.get_by_role("tab", name="Pengguna").count() == 0
    page.screenshot(path=str(SCREENSHOTS / "roles_agency_head_admin_url_new_tab.png"), full_page=True)
    page.close()


def test_a_wrong_password_is_refused(roles_app, browser):
    page = open_page(browser, roles_app.url)
    sign_in(page, ACCOUNTS["admin"], "bukan-sandi-yang-benar", succeeds=False)
    assert page.get_by_text("Nama pengguna atau kata sandi salah.").count() == 1
    assert nav_titles(page) == expected_titles("wall")
    page.screenshot(path=str(SCREENSHOTS / "roles_wrong_password.png"), full_page=True)
    page.close()
