"""HTTP for polled API channels (JSON APIs, Open311): stdlib urllib only.

One GET returns parsed JSON or raises SourceError with one line a person can act on. Timeouts, dropped
connections, HTTP 5xx, 408 and 429 are retried with exponential backoff (a 429/503 `Retry-After` is honoured,
capped); other 4xx fail at once. Settings (from the region's channels.toml, or a `settings=` override):

    url          the endpoint
    auth_header  "Authorization: Bearer $WARGAKU_TOKEN": $VAR / ${VAR} are read from the environment
    timeout      seconds to wait for the server (connect, and each read), default 30
    attempts     tries per request before giving up, default 3
    backoff      seconds before the first retry, doubled each time, default 1
    max_wait     cap on any wait between tries (backoff or Retry-After), seconds, default 30
    max_response_mb  largest response body accepted, default 32: a bigger one is refused (by its declared
                 Content-Length before reading, else while streaming) with a clear error, never held in memory
"""
from __future__ import annotations

import http.client
import json
import logging
import os
import random
import re
import socket
import ssl
import time
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone
from urllib.error import HTTPError, URLError
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from urllib.request import HTTPRedirectHandler, Request, build_opener

from connectors.base import SourceError

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 32 * 1024 * 1024
MEGABYTE = 1024 * 1024
CHUNK = 256 * 1024
RETRY_STATUSES = frozenset({408, 425, 429})
USER_AGENT = "Sigap/1.0 (+complaint command centre)"
_VAR = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
_SECRET_PARAM = re.compile(r"token|key|secret|password|passwd|signature|sig|auth", re.IGNORECASE)


class _Retryable(Exception):
    """One attempt failed in a way worth trying again; `reason` reads '<reason> from <url>'."""

    def __init__(self, reason: str, wait: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.wait = wait


def _number(settings: dict, key: str, default: float, minimum: float) -> float:
    value = settings.get(key)
    if value is None or value == "":
        return default
    try:
        return max(float(value), minimum)
    except (TypeError, ValueError):
        raise SourceError(f"setting {key} = {value!r} is not a number") from None


def auth_header(channel: str, raw: str | None) -> dict[str, str]:
    """'Authorization: Bearer $TOKEN' -> {'Authorization': 'Bearer <value of $TOKEN>'}; blank -> {}."""
    raw = (raw or "").strip()
    if not raw:
        return {}
    name, sep, value = raw.partition(":")
    name, value = name.strip(), value.strip()
    if not sep or not name or not value or not re.fullmatch(r"[A-Za-z0-9-]+", name):
        raise SourceError(f"{channel}: auth_header must look like \"Authorization: Bearer $TOKEN\"")

    def expand(match: re.Match) -> str:
        var = match.group(1) or match.group(2)
        if var not in os.environ:
            raise SourceError(f"{channel}: auth_header uses ${var}, which is not set in the environment")
        return os.environ[var]

    value = _VAR.sub(expand, value)
    if any(c in value for c in "\r\n\x00"):
        raise SourceError(f"{channel}: auth_header contains a line break")
    return {name: value}


def with_params(url: str, params: dict | None) -> str:
    """`url` with `params` added to (or replacing those in) its query string; None values are left out."""
    if not params:
        return url
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query += [(k, str(v)) for k, v in params.items() if v is not None]
    return urlunsplit(parts._replace(query=urlencode(query)))


def display_url(url: str) -> str:
    """The URL as error messages show it: no user:password, secret-looking query values masked."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    query = [(k, "***" if _SECRET_PARAM.search(k) else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query, safe="*:+,")))


def _retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0.0, (moment - (now or datetime.now(timezone.utc))).total_seconds())


def _one_line(data: bytes, limit: int = 160) -> str:
    """The start of a response body as one printable line (it goes into the run's error, shown on a page)."""
    text = " ".join("".join(c if c.isprintable() else " " for c in data[:4096].decode("utf-8", errors="replace"))
                    .split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _SameHostCredentials(HTTPRedirectHandler):
    """Follow redirects, but never send the channel's auth header on to another host."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and urlsplit(newurl).netloc != urlsplit(req.full_url).netloc:
            for name in list(new.headers):
                if name.lower() in ("authorization", "x-api-key", "cookie") or _SECRET_PARAM.search(name):
                    del new.headers[name]
        return new


class JsonHttp:
    """GETs JSON documents for one channel, with timeouts and retries; every failure is a SourceError."""

    def __init__(self, channel: str, *, timeout: float = 30.0, attempts: int = 3, backoff: float = 1.0,
                 max_wait: float = 30.0, headers: dict[str, str] | None = None, max_bytes: int = MAX_BODY_BYTES):
        self.channel = channel
        self.timeout = timeout
        self.attempts = max(1, int(attempts))
        self.backoff = backoff
        self.max_wait = max_wait
        self.headers = {"Accept": "application/json", "User-Agent": USER_AGENT, **(headers or {})}
        self.max_bytes = max_bytes
        # A slow-drip server (a byte every few seconds) never trips the socket timeout: bound the whole read too.
        self.deadline = max(60.0, 4 * timeout)
        self._opener = build_opener(_SameHostCredentials)  # honours http_proxy / no_proxy from the environment
        self.requests = 0  # every attempt made, for run reports and tests

    @classmethod
    def from_settings(cls, channel: str, settings: dict) -> JsonHttp:
        return cls(
            channel,
            timeout=_number(settings, "timeout", 30.0, 0.05),
            attempts=int(_number(settings, "attempts", 3, 1)),
            backoff=_number(settings, "backoff", 1.0, 0.0),
            max_wait=_number(settings, "max_wait", 30.0, 0.0),
            headers=auth_header(channel, settings.get("auth_header")),
            max_bytes=int(_number(settings, "max_response_mb", MAX_BODY_BYTES / MEGABYTE, 0.001) * MEGABYTE),
        )

    def get_json(self, url: str, params: dict | None = None):
        """The JSON document at `url` + `params`, retried on transient failures."""
        full = with_params(url, params)
        shown = display_url(full)
        if urlsplit(full).scheme not in ("http", "https") or not urlsplit(full).netloc:
            raise SourceError(f"{self.channel}: url {shown!r} is not an http:// or https:// address")
        reason = "no attempt made"
        for attempt in range(1, self.attempts + 1):
            try:
                return self._attempt(full, shown)
            except _Retryable as failure:
                reason = failure.reason
                if attempt == self.attempts:
                    break
                wait = failure.wait if failure.wait is not None else self.backoff * 2 ** (attempt - 1)
                wait = min(wait, self.max_wait) * (1 + random.uniform(0, 0.1))
                log.warning("%s: %s %s; retrying in %.1f s (attempt %d of %d)", self.channel, reason, shown, wait,
                            attempt + 1, self.attempts)
                time.sleep(wait)
        raise SourceError(f"{self.channel}: {reason} {shown} after {self.attempts} attempts")

    def _attempt(self, url: str, shown: str):
        self.requests += 1
        request = Request(url, headers=self.headers, method="GET")
        try:
            response = self._opener.open(request, timeout=self.timeout)
        except HTTPError as exc:
            try:
                body = exc.read(4096) if exc.fp else b""
            except (OSError, http.client.HTTPException):
                body = b""
            finally:
                exc.close()
            raise self._status_failure(exc.code, exc.headers, body, shown) from None
        except URLError as exc:
            raise self._connection_failure(exc.reason, shown) from exc
        except (TimeoutError, socket.timeout, OSError, http.client.HTTPException) as exc:
            raise self._connection_failure(exc, shown) from exc
        with response:
            body = self._read(response, shown)
            content_type = response.headers.get("Content-Type", "")
        try:
            return json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            if content_type and "json" not in content_type:  # an error or login page from a proxy, say
                raise SourceError(f"{self.channel}: the response from {shown} is not valid JSON "
                                  f"({content_type.split(';')[0]}), it begins {_one_line(body, 100)!r}; is the url "
                                  "right, or is a proxy or login page answering?") from None
            where = (f": {exc.msg} at character {exc.pos} of {len(body)}"
                     if isinstance(exc, json.JSONDecodeError) else "")
            raise SourceError(f"{self.channel}: the response from {shown} is not valid JSON{where}; "
                              "a truncated or broken response") from None

    def _too_large(self, shown: str, declared: int | None = None) -> SourceError:
        size = f"is {declared / MEGABYTE:.1f} MB" if declared else "grew past the limit while being read"
        return SourceError(f"{self.channel}: the response from {shown} {size}; refused (the limit is "
                           f"{self.max_bytes / MEGABYTE:g} MB, max_response_mb). Ask for a smaller page_size")

    def _read(self, response, shown: str) -> bytes:
        declared = response.headers.get("Content-Length", "").strip()
        if declared.isdigit() and int(declared) > self.max_bytes:  # refused before reading a byte of it
            raise self._too_large(shown, int(declared))
        chunks, size, started = [], 0, time.monotonic()
        try:
            while True:
                chunk = response.read(CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > self.max_bytes:
                    raise self._too_large(shown)
                if time.monotonic() - started > self.deadline:
                    raise _Retryable(f"the response took longer than {self.deadline:.0f} s from")
                chunks.append(chunk)
        except http.client.IncompleteRead as exc:
            expected = len(exc.partial) + (exc.expected or 0) + size
            raise _Retryable(f"the connection closed part-way through the response ({size + len(exc.partial)} "
                             f"of {expected} bytes) from") from None
        except (TimeoutError, socket.timeout):
            raise _Retryable(f"no data for {self.timeout:g} s in the middle of the response from") from None
        except (ConnectionError, http.client.HTTPException, OSError) as exc:
            raise _Retryable(f"the connection broke during the response ({type(exc).__name__}) from") from None
        if declared.isdigit() and int(declared) != size:  # read(amt) does not raise IncompleteRead: check here
            raise _Retryable(f"the connection closed part-way through the response ({size} of {declared} bytes) "
                             "from")
        return b"".join(chunks)

    def _status_failure(self, status: int, headers, body: bytes, shown: str) -> Exception:
        if status in RETRY_STATUSES or status >= 500:
            wait = _retry_after(headers.get("Retry-After")) if headers is not None else None
            asked = f" (Retry-After {wait:.0f} s)" if wait is not None else ""
            return _Retryable(f"HTTP {status}{asked} from", wait)
        hint = {401: " (check auth_header and the token in the environment)", 403: " (check auth_header)",
                404: " (check the url in channels.toml)"}.get(status, "")
        detail = f": {_one_line(body)}" if body.strip() else ""
        return SourceError(f"{self.channel}: HTTP {status} from {shown}{hint}{detail}")

    def _connection_failure(self, reason, shown: str) -> Exception:
        if isinstance(reason, (TimeoutError, socket.timeout)) or "timed out" in str(reason):
            return _Retryable(f"no answer within {self.timeout:g} s from")
        if isinstance(reason, ssl.SSLCertVerificationError):
            return SourceError(f"{self.channel}: the TLS certificate of {shown} is not trusted "
                               f"({reason.verify_message})")
        if isinstance(reason, ConnectionRefusedError):
            return _Retryable("connection refused by")
        if isinstance(reason, socket.gaierror):
            return _Retryable("cannot resolve the host name of")
        if isinstance(reason, (ConnectionError, http.client.HTTPException)):
            return _Retryable(f"the connection broke ({type(reason).__name__}) at")
        if isinstance(reason, ValueError):  # malformed URL
            return SourceError(f"{self.channel}: {shown} is not a usable URL ({reason})")
        return _Retryable(f"cannot connect ({reason}) to")
