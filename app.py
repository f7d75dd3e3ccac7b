"""Sigap: the command centre for public complaints. `streamlit run app.py`"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui import context, filters
from ui.i18n import LANGUAGES, t

st.set_page_config(page_title="Sigap", page_icon="🛰️", layout="wide")

if "lang" not in st.session_state:
    st.session_state["lang"] = st.query_params.get("lang", "id") if st.query_params.get("lang") in LANGUAGES else "id"

context.engine()  # migrate and seed before any page queries

# (file, title key, icon, url path)
PAGES = [
    ("pages/overview.py", "nav_overview", ":material/dashboard:", "overview"),
    ("pages/map.py", "nav_map", ":material/map:", "map"),
    ("pages/response_times.py", "nav_response", ":material/timer:", "response"),
    ("pages/agencies.py", "nav_agencies", ":material/leaderboard:", "agencies"),
    ("pages/explorer.py", "nav_explorer", ":material/search:", "explorer"),
    ("pages/channels.py", "nav_channels", ":material/sensors:", "channels"),
]
ROOT = Path(__file__).resolve().parent
page = st.navigation([
    st.Page(path, title=t(title), icon=icon, url_path=url, default=i == 0)
    for i, (path, title, icon, url) in enumerate(PAGES) if (ROOT / path).exists()
])

with st.sidebar:
    st.segmented_control(t("language"), LANGUAGES, key="lang", format_func=str.upper)
    if st.query_params.get("lang", "id") != st.session_state["lang"]:
        st.query_params["lang"] = st.session_state["lang"]

st.session_state["filters"] = filters.sidebar()
page.run()
