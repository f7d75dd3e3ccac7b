"""Dependency vulnerability audit for CI: `python3 tests/dependency_audit.py [--osv-url URL] [--no-deps] [REQ ...]`.

Runs pip-audit on the runtime requirements. A known vulnerability fails (exit 1). An audit that cannot be done
(no network, a PyPI mirror without vulnerability data, pip-audit missing) prints a WARNING and exits 0, so CI
does not fail for reasons unrelated to the code, but says loudly that nothing was checked.

Before the real audit, a canary (jinja2 2.10, with published advisories) is audited against each service in
turn: a service that answers but reports nothing for the canary is not trusted (a mirror that serves package
pages without vulnerability data answers "no known vulnerabilities" for everything).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

SERVICES = ("pypi", "osv")  # pip-audit's public services, in the order tried
CANARY = "jinja2==2.10"  # CVE-2019-10906 and later advisories: every working service reports it
CANARY_SECONDS = 60
AUDIT_SECONDS = 300
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def pip_audit(args: list[str], timeout: float) -> dict | None:
    """pip-audit's JSON report, or None when it could not run (network, service, timeout)."""
    try:
        done = subprocess.run([sys.executable, "-m", "pip_audit", "-f", "json", "--progress-spinner", "off", *args],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    try:
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        return None


def vulnerable(report: dict) -> list[tuple[str, str, str]]:
    return [(dep["name"], dep.get("version", "?"), vuln["id"])
            for dep in report.get("dependencies", []) for vuln in dep.get("vulns", [])]


def working_service(services: dict[str, list[str]]) -> str | None:
    """The first service that reports the canary's known vulnerabilities."""
    with tempfile.TemporaryDirectory() as folder:
        canary = Path(folder) / "canary.txt"
        canary.write_text(CANARY + "\n", encoding="utf-8")
        for service, options in services.items():
            report = pip_audit([*options, "--no-deps", "--disable-pip", "-r", str(canary)], CANARY_SECONDS)
            if report and vulnerable(report):
                return service
            print(f"dependency audit: the {service!r} vulnerability service is unreachable or has no advisory data "
                  f"(it reports nothing for {CANARY})", file=sys.stderr)
    return None


def warn(message: str) -> int:
    print(f"WARNING: dependency audit NOT done: {message}", file=sys.stderr)
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="audit the requirements for known vulnerabilities")
    parser.add_argument("requirements", nargs="*", default=["requirements.txt"])
    parser.add_argument("--osv-url", help="an OSV-compatible API to use instead of the public services")
    parser.add_argument("--no-deps", action="store_true", help="the requirements are pinned: do not resolve")
    args = parser.parse_args(argv)
    if subprocess.run([sys.executable, "-m", "pip_audit", "--version"], capture_output=True).returncode != 0:
        return warn("pip-audit is not installed (pip install pip-audit)")
    services = ({"osv": ["-s", "osv", "--osv-url", args.osv_url]} if args.osv_url
                else {name: ["-s", name] for name in SERVICES})
    service = working_service(services)
    if service is None:
        return warn(f"no vulnerability service answered with advisory data ({', '.join(services)})")
    options = [*services[service], *(["--no-deps", "--disable-pip"] if args.no_deps else [])]
    for name in args.requirements:
        options += ["-r", str(PROJECT_ROOT / name)]
    requirements = args.requirements
    report = pip_audit(options, AUDIT_SECONDS)
    if report is None:
        return warn(f"pip-audit against {service!r} failed or timed out while auditing {', '.join(requirements)}")
    found = vulnerable(report)
    skipped = [d["name"] for d in report.get("dependencies", []) if d.get("skip_reason")]
    audited = len(report.get("dependencies", [])) - len(skipped)
    if skipped:
        print(f"dependency audit: {len(skipped)} package(s) could not be audited: {', '.join(skipped)}",
              file=sys.stderr)
    for name, version, vuln in found:
        print(f"VULNERABLE: {name} {version}: {vuln}", file=sys.stderr)
    if found:
        print(f"dependency audit FAILED: {len(found)} known vulnerabilit(y/ies); upgrade the packages above",
              file=sys.stderr)
        return 1
    print(f"dependency audit ({service}): {audited} package(s) audited, no known vulnerabilities", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
