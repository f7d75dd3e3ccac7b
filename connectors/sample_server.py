"""A local HTTP server that plays the API channels with realistic sample data (demos, development, tests).

    python -m connectors.sample_server --port 8765 [--data DIR] [--token SECRET]

It serves what `sample_data.generate()` writes (read from DIR, or generated into DIR / a temporary folder on
start), in the shapes documented in sample_data/FORMATS.md, on 127.0.0.1 only:

    GET /wargaku/complaints?page=1&per_page=500&updated_since=ISO
        -> {"data", "page", "per_page", "total", "next_page"}
    GET /mediacenter/tickets?limit=250&since=ISO&cursor=…
        -> {"items", "cursor", "has_more"}
    GET /jss/complaints?offset=0&limit=200&modified_since=ISO
        -> {"status", "code", "result": {"complaints", "pagination"}}
    GET /open311/requests.json?updated_after=ISO&page=1&page_size=500   (also start_date, end_date, status,
        -> [request, ...]                                                service_code; and /open311/services.json)
    GET /
        -> the feeds and their sizes

Without an updated-since parameter items come in the files' order (oldest complaint first). With one, only items
changed at or after that moment are served, oldest change first (updated time, then id), so a client that stops
part-way can resume from the newest change it stored. `total` counts the filtered items.

Fault injection (small, for tests; query parameters or `server.faults`): fail_after_pages=N answers pages after
the N-th with HTTP fail_status (default 500, with retry_after as Retry-After), fail_times=K only K times (then the
server recovers); delay=SECONDS waits before answering pages after delay_after_pages (default 0);
truncate_after_pages=N cuts those responses off half-way. corrupt=KIND spoils the pages after corrupt_after_pages
(fail_times counts these too):

    malformed      a JSON syntax error (a trailing comma), with a correct Content-Length
    html           HTTP 200 with an HTML page (a proxy's or a login page), Content-Type text/html
    repeat         the previous page's items again, in this page's envelope (its next page / cursor unchanged)
    skip           the page without the first half of its items (a cursor that jumps, a shifted offset)
    huge           a 50 MB body, its Content-Length declared
    huge_stream    a 50 MB body without Content-Length, ended by closing the connection
    stall          the headers and half the body, then silence for stall_seconds
"""
from __future__ import annotations

import argparse
import base64
import binascii
import bisect
import json
import shutil
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

WIB = timezone(timedelta(hours=7))
MAX_PAGE_SIZE = 1000
MAX_DELAY = 30.0
CORRUPTIONS = ("malformed", "html", "repeat", "skip", "huge", "huge_stream", "stall")
HUGE_BYTES = 50 * 1024 * 1024
HTML_ERROR = (b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1>"
              b"<p>The upstream server is not answering.</p><hr>nginx</body></html>")


@dataclass(frozen=True)
class Feed:
    channel: str
    path: str
    files: str  # glob under DIR/<channel>/
    id_field: str
    created_field: str
    updated_field: str
    since_param: str
    page_size: int
    utc_times: bool = False  # JSS writes "…Z"; the others "+07:00"


FEEDS = {
    "wargaku": Feed("wargaku", "/wargaku/complaints", "page-*.json", "id", "created_at", "updated_at",
                    "updated_since", 500),
    "mediacenter": Feed("mediacenter", "/mediacenter/tickets", "tickets-*.json", "ticket_no", "submitted",
                        "last_update", "since", 250),
    "jss": Feed("jss", "/jss/complaints", "complaints-*.json", "complaint_id", "reported_at", "last_modified",
                "modified_since", 200, utc_times=True),
    "open311": Feed("open311", "/open311/requests.json", "requests-*.json", "service_request_id",
                    "requested_datetime", "updated_datetime", "updated_after", 500),
}


class BadRequest(ValueError):
    """A query parameter the server cannot use: answered with HTTP 400."""


def parse_time(value: str, name: str = "time") -> datetime:
    """An ISO-8601 moment; a bare one is WIB. '+' that arrived as a space (unencoded query) is put back."""
    raw = value.strip().replace(" ", "+") if "T" in value else value.strip()
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{name}={value!r} is not an ISO-8601 date and time") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=WIB)).astimezone(timezone.utc)


def _items_of(channel: str, document) -> list[dict]:
    if channel == "wargaku":
        return document["data"]
    if channel == "mediacenter":
        return document["items"]
    if channel == "jss":
        return document["result"]["complaints"]
    return document


def _with_items(channel: str, document, items: list[dict]):
    """The response `document` with its item list replaced (the envelope kept as it was)."""
    if channel == "open311":
        return items
    document = json.loads(json.dumps(document))
    if channel == "jss":
        document["result"]["complaints"] = items
    else:
        document["data" if channel == "wargaku" else "items"] = items
    return document


class SampleStore:
    """Each feed's items, in the files' order; thread-safe; tests may change items to simulate activity."""

    def __init__(self, items: dict[str, list[dict]]):
        self._lock = threading.Lock()
        self._items = {channel: [dict(i) for i in items.get(channel, [])] for channel in FEEDS}
        self._version = 0
        self._views: dict[tuple[str, str], tuple[int, list, list]] = {}

    @classmethod
    def from_dir(cls, data_dir: str | Path) -> SampleStore:
        data_dir = Path(data_dir)
        items = {}
        for channel, feed in FEEDS.items():
            items[channel] = []
            for path in sorted((data_dir / channel).glob(feed.files)):
                items[channel].extend(_items_of(channel, json.loads(path.read_text(encoding="utf-8"))))
        if not any(items.values()):
            raise FileNotFoundError(f"{data_dir} holds no wargaku/mediacenter/jss/open311 files; write them with "
                                    f"`python -m sample_data.generate {data_dir}`")
        return cls(items)

    @classmethod
    def generate(cls, out_dir: str | Path, today=None, seed: int = 42, scale: float = 1.0,
                 months: int = 12) -> SampleStore:
        from sample_data import generate

        if today is None:  # up to this minute: the newest complaints are minutes old
            today = datetime.now(WIB).replace(tzinfo=None, second=0, microsecond=0)
        generate(Path(out_dir), today, seed=seed, scale=scale, months=months, channels=list(FEEDS))
        return cls.from_dir(out_dir)

    # --- reading ---------------------------------------------------------------------------------------------

    def count(self, channel: str) -> int:
        with self._lock:
            return len(self._items[channel])

    def items(self, channel: str) -> list[dict]:
        """A copy of the feed's items, in the files' order."""
        with self._lock:
            return [json.loads(json.dumps(i)) for i in self._items[channel]]

    def view(self, channel: str, changes_first: bool) -> tuple[list, list]:
        """(sort keys, items): the files' order, or update order (updated time in UTC, then id)."""
        order = "updated" if changes_first else "files"
        with self._lock:
            cached = self._views.get((channel, order))
            if cached and cached[0] == self._version:
                return cached[1], cached[2]
            feed = FEEDS[channel]
            if changes_first:
                keyed = sorted(((parse_time(i[feed.updated_field]).strftime("%Y-%m-%dT%H:%M:%S.%f"),
                                 str(i[feed.id_field])), i) for i in self._items[channel])
                keys, items = [k for k, _ in keyed], [i for _, i in keyed]
            else:
                keys, items = list(range(len(self._items[channel]))), list(self._items[channel])
            self._views[(channel, order)] = (self._version, keys, items)
            return keys, items

    # --- changing (tests, demos) -------------------------------------------------------------------------------

    def stamp(self, channel: str, moment: datetime | None = None) -> str:
        """A time as the feed writes it."""
        moment = (moment or datetime.now(timezone.utc)).replace(microsecond=0)
        if FEEDS[channel].utc_times:
            return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
        return moment.astimezone(WIB).isoformat()

    def update(self, channel: str, source_id, changes: dict, touch: bool = True) -> dict:
        """Change one item (as the source system would); its update time becomes now unless `changes` sets it."""
        feed = FEEDS[channel]
        with self._lock:
            for item in self._items[channel]:
                if str(item[feed.id_field]) == str(source_id):
                    item.update(changes)
                    if touch and feed.updated_field not in changes:
                        item[feed.updated_field] = self.stamp(channel)
                    self._version += 1
                    return dict(item)
        raise KeyError(f"{channel} has no item {source_id!r}")

    def add(self, channel: str, item: dict) -> None:
        with self._lock:
            self._items[channel].append(dict(item))
            self._version += 1


@dataclass
class Faults:
    """Injected failures; query parameters of the same names override these per request."""

    fail_after_pages: int | None = None
    fail_status: int = 500
    fail_times: int | None = None  # None = until cleared
    retry_after: str | None = None
    delay: float = 0.0
    delay_after_pages: int = 0
    truncate_after_pages: int | None = None
    corrupt: str | None = None  # one of CORRUPTIONS
    corrupt_after_pages: int = 0
    stall_seconds: float = 2.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def clear(self) -> None:
        for f in fields(self):
            if not f.name.startswith("_"):
                setattr(self, f.name, f.default)

    def take_failure(self, override: dict) -> bool:
        """Whether this response should fail; counts down fail_times."""
        if "fail_after_pages" in override or "corrupt" in override:
            return True
        with self._lock:
            if self.fail_times is None:
                return True
            if self.fail_times <= 0:
                return False
            self.fail_times -= 1
            return True


def _int(params: dict, name: str, default: int | None, low: int = 0, high: int | None = None) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise BadRequest(f"{name}={value!r} is not a whole number") from None
    if number < low or (high is not None and number > high):
        raise BadRequest(f"{name}={number} is out of range ({low}..{high if high is not None else ''})")
    return number


def _encode_cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode_cursor(token: str) -> str:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise BadRequest("cursor is not valid") from None
    if not text.startswith("after:"):
        raise BadRequest("cursor is not valid")
    return text[len("after:"):]


class SampleApi:
    """Turns a request (path + query) into (status, headers, JSON body, page number) from a SampleStore."""

    def __init__(self, store: SampleStore):
        self.store = store

    def channel_at(self, path: str) -> str | None:
        return next((c for c, f in FEEDS.items() if path.rstrip("/") == f.path), None)

    def handle(self, path: str, params: dict) -> tuple[int, object, int]:
        for channel, feed in FEEDS.items():
            if path.rstrip("/") == feed.path:
                return getattr(self, channel)(feed, params)
        if path.rstrip("/") == "/open311/services.json":
            return 200, self.services(), 1
        if path in ("", "/"):
            return 200, {"feeds": {c: {"url": f.path, "items": self.store.count(c), "since_param": f.since_param}
                                   for c, f in FEEDS.items()}}, 1
        return 404, {"error": f"no such endpoint {path}"}, 1

    def _select(self, feed: Feed, since: str | None) -> tuple[list, list]:
        since = since or None
        keys, items = self.store.view(feed.channel, changes_first=since is not None)
        if since is None:
            return keys, items
        start = bisect.bisect_left(keys, (parse_time(since, feed.since_param).strftime("%Y-%m-%dT%H:%M:%S.%f"),))
        return keys[start:], items[start:]

    def wargaku(self, feed: Feed, params: dict):
        page = _int(params, "page", 1, low=1)
        per_page = _int(params, "per_page", feed.page_size, low=1, high=MAX_PAGE_SIZE)
        _, items = self._select(feed, params.get(feed.since_param))
        chunk = items[(page - 1) * per_page: page * per_page]
        more = page * per_page < len(items)
        return 200, {"data": chunk, "page": page, "per_page": per_page, "total": len(items),
                     "next_page": page + 1 if more else None}, page

    def mediacenter(self, feed: Feed, params: dict):
        limit = _int(params, "limit", feed.page_size, low=1, high=MAX_PAGE_SIZE)
        since = params.get(feed.since_param) or None
        keys, items = self._select(feed, since)
        start = 0
        if params.get("cursor"):
            after = _decode_cursor(params["cursor"])
            if since is None:  # files' order: the cursor names the last ticket read, as in the sample files
                positions = {i[feed.id_field]: n for n, i in enumerate(items)}
                if after not in positions:
                    raise BadRequest("cursor refers to an unknown ticket")
                start = positions[after] + 1
            else:  # update order: the cursor is the last (updated time, ticket) read
                moment, _, ticket = after.partition("|")
                start = bisect.bisect_right(keys, (moment, ticket))
        chunk = items[start:start + limit]
        more = start + limit < len(items)
        token = None
        if more and chunk:
            last = chunk[-1]
            position = last[feed.id_field] if since is None else "|".join(keys[start + len(chunk) - 1])
            token = _encode_cursor("after:" + position)
        return 200, {"items": chunk, "cursor": token, "has_more": more}, start // limit + 1

    def jss(self, feed: Feed, params: dict):
        offset = _int(params, "offset", 0)
        limit = _int(params, "limit", feed.page_size, low=1, high=MAX_PAGE_SIZE)
        _, items = self._select(feed, params.get(feed.since_param))
        return 200, {"status": "success", "code": 200,
                     "result": {"complaints": items[offset:offset + limit],
                                "pagination": {"offset": offset, "limit": limit, "total_count": len(items)}}}, \
            offset // limit + 1

    def open311(self, feed: Feed, params: dict):
        _, items = self._select(feed, params.get(feed.since_param))
        start = parse_time(params["start_date"], "start_date") if params.get("start_date") else None
        end = parse_time(params["end_date"], "end_date") if params.get("end_date") else None
        statuses = set(params["status"].split(",")) if params.get("status") else None
        codes = set(params["service_code"].split(",")) if params.get("service_code") else None
        if start or end or statuses or codes:
            def keep(item):
                requested = parse_time(item[feed.created_field])
                return ((start is None or requested >= start) and (end is None or requested <= end)
                        and (statuses is None or item["status"] in statuses)
                        and (codes is None or item["service_code"] in codes))
            items = [i for i in items if keep(i)]
        if "page" not in params and "page_size" not in params:
            return 200, items, 1
        page = _int(params, "page", 1, low=1)
        size = _int(params, "page_size", feed.page_size, low=1, high=MAX_PAGE_SIZE)
        return 200, items[(page - 1) * size: page * size], page

    def services(self) -> list[dict]:
        seen = {}
        for item in self.store.items("open311"):
            seen.setdefault(item["service_code"], item["service_name"])
        return [{"service_code": code, "service_name": name, "description": name, "metadata": False,
                 "type": "realtime", "keywords": "", "group": ""} for code, name in sorted(seen.items())]


class _Handler(BaseHTTPRequestHandler):
    server: SampleHttpServer
    server_version = "SigapSample/1.0"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        parts = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        self.server.requests.append((parts.path, params))
        token = self.server.token
        if token and self.headers.get("Authorization") != f"Bearer {token}":
            return self._send(401, {"error": "missing or wrong Authorization: Bearer token"})
        try:
            status, body, page = self.server.api.handle(parts.path, params)
            faults = self._faults(params)
        except BadRequest as exc:
            body = ({"status": "error", "code": 400, "message": str(exc)} if parts.path.startswith("/jss")
                    else [{"code": 400, "description": str(exc)}] if parts.path.startswith("/open311")
                    else {"error": str(exc)})
            return self._send(400, body)
        if faults["delay"] and page > faults["delay_after_pages"]:
            time.sleep(min(float(faults["delay"]), MAX_DELAY))
        after = faults["fail_after_pages"]
        if after is not None and page > after and self.server.faults.take_failure(self._overrides(params)):
            headers = {"Retry-After": str(faults["retry_after"])} if faults["retry_after"] else {}
            return self._send(int(faults["fail_status"]), {"error": "injected failure"}, headers)
        channel = self.server.api.channel_at(parts.path)
        corrupt = faults["corrupt"]
        if (corrupt and channel and status == 200 and page > faults["corrupt_after_pages"]
                and self.server.faults.take_failure(self._overrides(params))):
            return self._send_corrupt(corrupt, channel, body, float(faults["stall_seconds"]))
        if channel and status == 200:
            self.server.last_items[channel] = _items_of(channel, body)
        cut = faults["truncate_after_pages"]
        self._send(status, body, truncate=cut is not None and page > cut)

    def _send_corrupt(self, kind: str, channel: str, body, stall: float) -> None:
        items = _items_of(channel, body)
        if kind == "repeat":
            return self._send(200, _with_items(channel, body, self.server.last_items.get(channel, items)))
        if kind == "skip":
            return self._send(200, _with_items(channel, body, items[max(1, len(items) // 2):]))
        if kind == "malformed":
            text = json.dumps(body, ensure_ascii=False)
            return self._send_bytes(200, (text[:-1] + ", " + text[-1]).encode(), "application/json")
        if kind == "html":
            return self._send_bytes(200, HTML_ERROR, "text/html; charset=utf-8")
        if kind in ("huge", "huge_stream"):
            return self._send_huge(declared=kind == "huge")
        if kind == "stall":
            data = json.dumps(body).encode()
            return self._send_bytes(200, data, "application/json", half=True, stall=min(stall, MAX_DELAY))
        raise ValueError(f"corrupt={kind!r}; use one of {', '.join(CORRUPTIONS)}")

    def _send_huge(self, declared: bool) -> None:
        """A 50 MB JSON document written in 1 MB pieces until done or the client hangs up."""
        head, tail = b'{"data": [], "padding": "', b'"}'
        filler = b"x" * (1024 * 1024)
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if declared:
                self.send_header("Content-Length", str(HUGE_BYTES))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(head)
            written = len(head) + len(tail)
            while written < HUGE_BYTES:
                piece = filler[: HUGE_BYTES - written]
                self.wfile.write(piece)
                written += len(piece)
            self.wfile.write(tail)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client refused the body: what it should do
        self.close_connection = True

    def _overrides(self, params: dict) -> dict:
        return {k: v for k, v in params.items() if k in Faults.__dataclass_fields__ and not k.startswith("_")}

    def _faults(self, params: dict) -> dict:
        current = {f.name: getattr(self.server.faults, f.name) for f in fields(Faults) if not f.name.startswith("_")}
        for name, value in self._overrides(params).items():
            try:
                current[name] = (float(value) if name in ("delay", "stall_seconds")
                                 else value if name in ("retry_after", "corrupt") else int(value))
            except ValueError:
                raise BadRequest(f"{name}={value!r} is not a number") from None
        if current["corrupt"] and current["corrupt"] not in CORRUPTIONS:
            raise BadRequest(f"corrupt={current['corrupt']!r}; use one of {', '.join(CORRUPTIONS)}")
        return current

    def _send(self, status: int, body, headers: dict | None = None, truncate: bool = False) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self._send_bytes(status, data, "application/json; charset=utf-8", headers, half=truncate)

    def _send_bytes(self, status: int, data: bytes, content_type: str, headers: dict | None = None,
                    half: bool = False, stall: float = 0.0) -> None:
        """Answer with `data`; `half` sends only its first half (then closes, after `stall` seconds of silence)."""
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data[: len(data) // 2] if half else data)
            self.wfile.flush()
            if stall:
                time.sleep(stall)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test): nothing to tell it
        if half:
            self.close_connection = True

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - http.server's signature
        if self.server.verbose:
            sys.stderr.write(f"{self.address_string()} {format % args}\n")


class SampleHttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, store: SampleStore, port: int = 0, token: str | None = None, verbose: bool = False):
        super().__init__(("127.0.0.1", port), _Handler)
        self.store = store
        self.api = SampleApi(store)
        self.faults = Faults()
        self.token = token
        self.verbose = verbose
        self.requests: deque[tuple[str, dict]] = deque(maxlen=10_000)  # (path, query), newest last
        self.last_items: dict[str, list] = {}  # each feed's last page served, for corrupt=repeat
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> SampleHttpServer:
        """Serve in a background thread (tests); stop with close()."""
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
                                        name="sample-server")
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=5)
        self.server_close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m connectors.sample_server", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--data", type=Path, default=None,
                        help="folder written by sample_data.generate (generated there if it holds no feed files); "
                             "default: a new temporary folder, with data up to now")
    parser.add_argument("--scale", type=float, default=1.0, help="sample size when generating (1 = realistic)")
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--token", default=None, help="require 'Authorization: Bearer TOKEN' on every request")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    temporary = args.data is None
    data = args.data or Path(tempfile.mkdtemp(prefix="sigap-sample-"))
    try:
        store = SampleStore.from_dir(data)
    except FileNotFoundError:
        print(f"generating sample data in {data} …", file=sys.stderr)
        store = SampleStore.generate(data, seed=args.seed, scale=args.scale, months=args.months)
    try:
        server = SampleHttpServer(store, args.port, token=args.token, verbose=args.verbose)
    except OSError as exc:
        print(f"error: cannot listen on 127.0.0.1:{args.port} ({exc.strerror or exc})", file=sys.stderr)
        if temporary:
            shutil.rmtree(data, ignore_errors=True)
        return 2
    sizes = ", ".join(f"{c} {store.count(c)}" for c in FEEDS)
    print(f"serving {sizes} on {server.url} (data in {data}); Ctrl+C stops", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if temporary:
            shutil.rmtree(data, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
