"""No secrets in the repository; secrets come from the environment or .streamlit/secrets.toml (git-ignored);
the dependency audit CI runs (tests/dependency_audit.py) fails on a known vulnerability and only warns when no
vulnerability service can be reached."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import tomllib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

# Secrets with a recognisable shape, in any file.
SHAPED = {
    "private key": re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----"),
    "AWS access key": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b"),
    "Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "Stripe key": re.compile(r"\b[sr]k_live_[0-9A-Za-z]{16,}"),
    "JSON web token": re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
    # user:password@host, except placeholders (***, $VAR, <password>, the word password) and the reserved
    # example domains (RFC 2606)
    "password in a URL": re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s/:@'\"]+:"
                                    r"(?!\*+@|\$\{?\w+\}?@|<[^>]*>@|\{\w*\}@|(?i:pass(?:word|wd)?)@)[^\s/@'\"]+@"
                                    r"(?![\w.-]*\bexample\b)"),
    "bearer token": re.compile(r"\bBearer\s+(?!\$|<|\{|TOKEN\b)[A-Za-z0-9._~+/-]{16,}=*"),
}
# In configuration files: a secret-named key with a literal value (an environment reference like $TOKEN is fine).
CONFIG_SUFFIXES = {".toml", ".yaml", ".yml", ".ini", ".cfg", ".env", ".json", ".conf"}
SECRET_KEY = re.compile(r"""^\s*["']?([\w.-]*(?:password|passwd|secret|token|api[_-]?key|private[_-]?key|"""
                        r"""auth_header|credential)[\w.-]*)["']?\s*[=:]\s*["']([^"']+)["']""", re.IGNORECASE)
ENV_REFERENCE = re.compile(r"^\s*(?:[\w-]+:\s*)?(?:Bearer\s+|Token\s+|Basic\s+)?\$\{?[A-Z_][A-Z0-9_]*\}?\s*$")
# Files that hold secrets by nature, and must never be committed.
SECRET_FILES = re.compile(r"(^|/)(\.env(\..*)?|secrets\.toml|id_(rsa|dsa|ecdsa|ed25519)|.*\.(pem|key|p12|pfx))$")


def tracked_files() -> list[str]:
    done = subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT_ROOT, capture_output=True, check=True)
    return [name for name in done.stdout.decode().split("\0") if name]


def findings(name: str, content: str) -> list[str]:
    """What in one file looks like a secret: 'path:line: kind'."""
    found = []
    config = Path(name).suffix in CONFIG_SUFFIXES
    for number, line in enumerate(content.splitlines(), start=1):
        for kind, pattern in SHAPED.items():
            if pattern.search(line):
                found.append(f"{name}:{number}: {kind}")
        match = SECRET_KEY.match(line) if config else None
        if match and not ENV_REFERENCE.match(match.group(2)):
            found.append(f"{name}:{number}: literal value for {match.group(1)}")
    return found


def test_no_tracked_file_holds_a_secret():
    problems = []
    for name in tracked_files():
        if SECRET_FILES.search(name):
            problems.append(f"{name}: a secrets file is tracked")
        path = PROJECT_ROOT / name
        if not path.is_file() or path.stat().st_size > 5_000_000:
            continue
        data = path.read_bytes()
        if b"\0" in data[:4096]:
            continue  # images and other binary files
        problems += findings(name, data.decode("utf-8", errors="replace"))
    assert problems == []


@pytest.mark.parametrize("line", [
    "-----BEGIN RSA " + "PRIVATE KEY-----",
    "aws_key = " + "AKIA" + "Q3EGRIW7XDTXKPAF",
    "token: " + "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
    "DATABASE_URL=postgresql://sigap:" + "Kota-Pahlawan1945" + "@db.surabaya.go.id/sigap",
    "curl -H 'Authorization: Bearer " + "9f8e7d6c5b4a39281706f5e4d3c2b1a0" + "'",
    "header." + "eyJhbGciOiJIUzI1NiJ9" + ".eyJzdWIiOiIxMjM0NTY3ODkwIn0" + ".dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
])
def test_the_scan_finds_secrets_of_every_shape(line):
    assert findings("notes.md", line)


@pytest.mark.parametrize("line,config", [
    ('auth_header = "Authorization: Bearer ' + 'Zq8xW2v9LmN4pR7tK1sD' + '"', True),
    ('client_secret = "' + 'a-real-oidc-client-secret' + '"', True),
    ('cookie_secret = "' + 'anything-literal' + '"', True),
])
def test_the_scan_finds_literal_secrets_in_configuration(line, config):
    assert findings("regions/x/channels.toml" if config else "x.py", line)


@pytest.mark.parametrize("line", [
    'auth_header = ""',
    'auth_header = "Authorization: Bearer $WARGAKU_TOKEN"',
    'auth_header = "X-Api-Key: ${JSS_API_KEY}"',
    "export DATABASE_URL=postgresql://sigap@db.example.go.id:5432/sigap",
    "postgresql://postgres:***@127.0.0.1:5432/sigap",
    "postgresql+psycopg://sigap:secret@db.example.go.id/sigap",
    "| `DATABASE_URL` | all | the database (`postgresql://user:password@host:5432/db`) |",
    "Authorization: Bearer $TOKEN",
])
def test_the_scan_passes_environment_references_and_urls_without_passwords(line):
    assert findings("regions/x/channels.toml", line) == []


def test_secrets_files_are_git_ignored():
    for name in (".streamlit/secrets.toml", ".env", "var/sigap.db", "sigap.backup"):
        ignored = subprocess.run(["git", "check-ignore", "-q", name], cwd=PROJECT_ROOT)
        assert ignored.returncode == 0, f"{name} is not git-ignored"


def test_api_credentials_in_channels_toml_come_from_the_environment(monkeypatch):
    from connectors.base import SourceError
    from connectors.http import auth_header

    for path in sorted(PROJECT_ROOT.glob("regions/*/channels.toml")):
        for channel, settings in tomllib.loads(path.read_text(encoding="utf-8")).items():
            value = settings.get("auth_header", "") if isinstance(settings, dict) else ""
            assert not value or "$" in value, f"{path}: [{channel}] auth_header holds a literal credential"
    monkeypatch.setenv("SIGAP_TEST_TOKEN", "from-env")
    assert auth_header("x", "Authorization: Bearer $SIGAP_TEST_TOKEN") == {"Authorization": "Bearer from-env"}
    monkeypatch.delenv("SIGAP_TEST_TOKEN")
    with pytest.raises(SourceError, match="not set in the environment"):
        auth_header("x", "Authorization: Bearer $SIGAP_TEST_TOKEN")


def test_the_database_url_comes_from_the_environment(monkeypatch):
    from models.db import DEFAULT_SQLITE_PATH, database_url

    monkeypatch.setenv("DATABASE_URL", "postgresql://sigap@db.example.go.id/sigap")
    assert database_url() == "postgresql://sigap@db.example.go.id/sigap"
    monkeypatch.delenv("DATABASE_URL")
    assert database_url() == f"sqlite:///{DEFAULT_SQLITE_PATH}"


# --- the dependency audit -----------------------------------------------------------------------------------------

class FakeOsv(BaseHTTPRequestHandler):
    """An OSV query API on 127.0.0.1 knowing one advisory (for jinja2 < 2.10.1), or failing with HTTP 503."""

    def do_POST(self):
        query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.server.broken:
            self.send_response(503)
            self.end_headers()
            return
        vulns = []
        if query["package"]["name"] == "jinja2" and query["version"] in ("2.10",):
            vulns = [{"id": "GHSA-462w-v97r-4m45", "summary": "sandbox escape",
                      "affected": [{"package": {"name": "jinja2", "ecosystem": "PyPI"},
                                    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"},
                                                                                 {"fixed": "2.10.1"}]}]}]}]
        body = json.dumps({"vulns": vulns} if vulns else {}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def osv():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOsv)
    server.broken = False
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def audit(osv, tmp_path, pins: str) -> subprocess.CompletedProcess:
    pytest.importorskip("pip_audit")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(pins, encoding="utf-8")
    url = f"http://127.0.0.1:{osv.server_address[1]}/v1/query"
    return subprocess.run([sys.executable, str(PROJECT_ROOT / "tests" / "dependency_audit.py"), "--osv-url", url,
                           "--no-deps", str(requirements)], capture_output=True, text=True, timeout=120)


def test_the_audit_fails_on_a_known_vulnerability_and_passes_without(osv, tmp_path):
    found = audit(osv, tmp_path, "jinja2==2.10\nsix==1.17.0\n")
    assert found.returncode == 1, found.stderr
    assert "VULNERABLE: jinja2 2.10: GHSA-462w-v97r-4m45" in found.stderr
    clean = audit(osv, tmp_path, "jinja2==3.1.6\nsix==1.17.0\n")
    assert clean.returncode == 0, clean.stderr
    assert "2 package(s) audited, no known vulnerabilities" in clean.stderr


def test_an_unreachable_audit_service_warns_without_failing(osv, tmp_path):
    osv.broken = True
    done = audit(osv, tmp_path, "jinja2==2.10\n")
    assert done.returncode == 0
    assert "WARNING: dependency audit NOT done" in done.stderr and "VULNERABLE" not in done.stderr
