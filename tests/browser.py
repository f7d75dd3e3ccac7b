"""A real dashboard in a real browser: Streamlit served on 127.0.0.1 from a seeded SQLite file, driven by
Debian's Chromium through Playwright. Screenshots land in tests/screenshots/ (git-ignored) to be looked at."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import IN_CI, PROJECT_ROOT

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = PROJECT_ROOT / "tests" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--enable-unsafe-swiftshader", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seeded_database(path: Path, scale: float = 0.15, months: int = 3) -> str:
    """A SQLite file filled by the real seeding path (small scale to keep tests quick)."""
    from models.db import get_engine, prepare_database
    from regions import load_region
    from sample_data.seed import seed

    url = f"sqlite:///{path}"
    region = load_region("surabaya")
    seed(prepare_database(get_engine(url), region), region, scale=scale, months=months)
    return url


class Dashboard:
    """`streamlit run app.py` as a subprocess on a free port."""

    def __init__(self, database_url: str, env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {**os.environ, "DATABASE_URL": database_url, "SIGAP_SEED": "0",
                       "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false", **(env or {})}
        self.log = (SCREENSHOTS.parent / f".streamlit-{self.port}.log")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.port", str(self.port), "--server.address", "127.0.0.1",
             "--server.fileWatcherType", "none"],
            cwd=PROJECT_ROOT, env=environment, stdout=self.log.open("w"), stderr=subprocess.STDOUT,
        )
        self._wait()

    def _wait(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"streamlit did not start: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def require_chromium() -> None:
    if not CHROMIUM.exists():
        if IN_CI:
            pytest.fail("Chromium is required in CI (apt-get install chromium)")
        pytest.skip("no /usr/bin/chromium")


def open_page(browser, url: str, width: int = 1600, height: int = 1000, wait_ms: int = 1500):
    """Load a Streamlit page and wait until it has finished running (no spinner, no 'running' widget)."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(url, timeout=90_000)
    page.wait_for_selector("[data-testid=stApp]", timeout=60_000)
    page.wait_for_timeout(wait_ms)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=90_000)
    page.wait_for_timeout(wait_ms)
    return page


def exceptions(page) -> list[str]:
    return page.locator("[data-testid=stException]").all_inner_texts()
