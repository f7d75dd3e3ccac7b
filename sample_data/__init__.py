"""Deterministic, realistic Surabaya complaint data written in each channel's real source format.

    from sample_data import generate
    files = generate(Path("var/sample"), today=date(2025, 11, 14))   # channel -> files, in import order
"""
import warnings

# `python -m sample_data.generate` imports this package (and so generate.py) before running generate.py as
# __main__; runpy warns about that, harmlessly.
warnings.filterwarnings("ignore", message="'sample_data.generate' found in sys.modules", category=RuntimeWarning)

from .generate import generate  # noqa: E402

__all__ = ["generate"]
