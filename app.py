"""Sigap: the command centre for public complaints. `streamlit run app.py`"""
from __future__ import annotations

import streamlit as st

from ui import context, filters
from ui.i18n import LANGUAGES, t

st.set_page_config(page_title="Sigap", page_icon="🛰️", layout="wide")

if "lang" not in st.session_state:
    st.session_state["lang"] = st.query_params.get("lang", "id") if st.query_params.get("lang") in LANGUAGES else "id"

context.engine()  # migrate and seed before any page queries

PAGES = [
    st.Page("pages/overview.py", title=t("nav_overview"), icon="📊", url_path="overview", default=True),
]
page = st.navigation(PAGES)

with st.sidebar:
    st.segmented_control(t("language"), LANGUAGES, key="lang", format_func=str.upper)
    if st.query_params.get("lang", "id") != st.session_state["lang"]:
        st.query_params["lang"] = st.session_state["lang"]

st.session_state["filters"] = filters.sidebar()
page.run()
