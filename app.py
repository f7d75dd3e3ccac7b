"""Sigap: the command centre for public complaints. `streamlit run app.py`"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui import auth, context, filters, kiosk
from ui.background import start_embedded_poller
from ui.i18n import LANGUAGES, t

st.set_page_config(page_title="Sigap", page_icon=":material/satellite_alt:", layout="wide")
st.set_option("client.disableDataExport", True)  # Streamlit's own table download skips masking and the audit log

# Widget values are dropped when the page changes: the language is kept under a second key too.
if st.session_state.get("lang") not in LANGUAGES:
    st.session_state["lang"] = st.session_state.get("_lang") or (
        st.query_params.get("lang") if st.query_params.get("lang") in LANGUAGES else "id")
st.session_state["_lang"] = st.session_state["lang"]

context.engine()  # migrate and seed before any page queries
start_embedded_poller()  # embedded SQLite only; one scheduler per process
kiosk.start_demo()  # ?demo=1 or SIGAP_DEMO=1: simulated live activity, demo databases only

# (file, title key, icon, url path)
PAGES = [
    ("pages/overview.py", "nav_overview", ":material/dashboard:", "overview"),
    ("pages/map.py", "nav_map", ":material/map:", "map"),
    ("pages/response_times.py", "nav_response", ":material/timer:", "response"),
    ("pages/agencies.py", "nav_agencies", ":material/leaderboard:", "agencies"),
    ("pages/explorer.py", "nav_explorer", ":material/search:", "explorer"),
    ("pages/channels.py", "nav_channels", ":material/sensors:", "channels"),
    ("pages/how_it_works.py", "nav_how", ":material/account_tree:", "how"),
    ("pages/my_agency.py", "nav_my_agency", ":material/apartment:", "my-agency"),
    ("pages/admin.py", "nav_admin", ":material/admin_panel_settings:", "admin"),
]
ROOT = Path(__file__).resolve().parent
WALL = kiosk.active()  # ?kiosk=1, SIGAP_KIOSK=1 or [kiosk] in region.toml
user = None if WALL else auth.current_user()
# A page a role may not see is not in its navigation, so its URL does not reach it either.
ROLE = auth.role_of(user)
# Every page is addressable (bookmarks survive signing in); the menu lists only the role's pages, and each
# restricted page refuses the others itself (auth.require).
pages = {path: st.Page(path, title=t(title), icon=icon, url_path=url, default=i == 0,
                       visibility="visible" if auth.allowed(url, ROLE) else "hidden")
         for i, (path, title, icon, url) in enumerate(PAGES) if (ROOT / path).exists()}
page = st.navigation(list(pages.values()), position="hidden" if WALL else "sidebar")
filters.return_to_requested_page(pages)

if WALL:
    st.session_state["filters"] = filters.current()
    kiosk.show(page, auth.visible_pages("wall", PAGES), ROOT)
else:
    with st.sidebar:
        st.segmented_control(t("language"), LANGUAGES, key="lang", format_func=str.upper)
        if st.query_params.get("lang", "id") != st.session_state["lang"]:
            st.query_params["lang"] = st.session_state["lang"]
        auth.sidebar(user)
    st.session_state["filters"] = filters.sidebar()
    by_url = {url: pages[path] for path, _, _, url in PAGES if path in pages}
    auth.land(by_url.get(auth.landing_url(ROLE, PAGES)))
    page.run()
