"""Metric definitions and the SQL that computes them (docs/METRICS.md); callable without Streamlit."""
from metrics.filters import Filters  # noqa: F401
