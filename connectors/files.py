"""Reading tabular files as people really send them: xlsx or CSV, any encoding, any delimiter, a preamble
above the header, merged or renamed headers.

Every file import (command line, drop folder, admin upload) passes the checks here before its content is
parsed: a size limit (SIGAP_MAX_FILE_MB, default 200; browser uploads SIGAP_MAX_UPLOAD_MB, default 50), no
symbolic links, and for xlsx a look at the zip directory that refuses zip bombs (a total uncompressed size
over SIGAP_MAX_UNCOMPRESSED_MB, default 500, or a member compressed more than 200:1) before anything is
decompressed.
"""
from __future__ import annotations

import csv
import io
import itertools
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from connectors.base import SourceError

MB = 1024 * 1024
DEFAULT_MAX_FILE_MB = 200
DEFAULT_MAX_UPLOAD_MB = 50
DEFAULT_MAX_UNCOMPRESSED_MB = 500
MAX_COMPRESSION_RATIO = 200  # real sheets compress 3-20:1, very repetitive ones up to ~100:1; bombs ~1000:1
RATIO_CHECKED_FROM = MB  # small members (styles, themes) may compress oddly and harmlessly
UPLOAD_TYPES = ("xlsx", "csv")
HEADER_SEARCH_ROWS = 40
_HEADER_KEY = re.compile(r"[^0-9a-z]+")


def header_key(name) -> str:
    """'Tipe Laporan (Anonim/Rahasia)' -> 'tipe_laporan_anonim_rahasia'."""
    return _HEADER_KEY.sub("_", str(name or "").strip().lower()).strip("_")


@dataclass
class Table:
    """Rows of a file as dicts keyed by header_key, plus the preamble found above the header."""

    path: Path
    header: list[str]
    rows: Iterator[dict]
    preamble: dict[str, object] = field(default_factory=dict)
    header_row: int = 1


def sniff_format(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise SourceError(f"{path.name}: cannot be read ({exc.strerror or exc})") from exc
    if not head:
        raise SourceError(f"{path.name}: the file is empty")
    return _sniff_bytes(head)


def _sniff_bytes(head: bytes) -> str:
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    stripped = head.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n").lower()
    if stripped.startswith((b"<", b"<\x00")):
        return "html"
    if stripped.startswith((b"{", b"[")):
        return "json"
    return "csv"


class TooLarge(SourceError):
    """A file over a size limit, or an archive that would expand beyond one (a zip bomb): never opened."""


class UploadRefused(SourceError):
    """An upload refused before it is stored; `code` (too_big, bad_type, empty, mismatch, unreadable) and
    `params` let a page say it in the user's language."""

    def __init__(self, message: str, code: str, **params):
        super().__init__(message)
        self.code, self.params = code, params


def _limit_mb(variable: str, default: int) -> int:
    value = os.environ.get(variable, "").strip()
    try:
        return max(1, int(float(value))) if value else default
    except ValueError:
        raise SourceError(f"{variable}={value!r} is not a number of megabytes") from None


def max_file_bytes() -> int:
    """The largest file the command line and the drop folders import (SIGAP_MAX_FILE_MB)."""
    return _limit_mb("SIGAP_MAX_FILE_MB", DEFAULT_MAX_FILE_MB) * MB


def max_upload_bytes() -> int:
    """The largest file an administrator may upload through the browser (SIGAP_MAX_UPLOAD_MB)."""
    return _limit_mb("SIGAP_MAX_UPLOAD_MB", DEFAULT_MAX_UPLOAD_MB) * MB


def max_uncompressed_bytes() -> int:
    return _limit_mb("SIGAP_MAX_UNCOMPRESSED_MB", DEFAULT_MAX_UNCOMPRESSED_MB) * MB


def too_big(name: str, size: int, limit: int) -> str:
    return f"{name}: {size / MB:.1f} MB is larger than the {limit / MB:.0f} MB limit"


def check_size(path: Path, limit: int | None = None) -> None:
    limit = max_file_bytes() if limit is None else limit
    size = path.stat().st_size
    if size > limit:
        raise TooLarge(too_big(path.name, size, limit))


def check_archive(path: Path, content: bytes | None = None) -> None:
    """Refuse a zip bomb from the zip directory alone, before anything is decompressed (of `content` when
    given, else of the file at `path`). A directory that understates sizes fails later, when read (CRC)."""
    try:
        with zipfile.ZipFile(io.BytesIO(content) if content is not None else path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise SourceError(f"{path.name}: not a readable xlsx workbook ({type(exc).__name__}: {exc})") from exc
    limit = max_uncompressed_bytes()
    total = sum(info.file_size for info in members)
    if total > limit:
        raise TooLarge(f"{path.name}: the workbook would expand to {total / MB:,.0f} MB, over the "
                       f"{limit / MB:.0f} MB limit; refused (a zip bomb, or save it as CSV)")
    for info in members:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size >= RATIO_CHECKED_FROM and ratio > MAX_COMPRESSION_RATIO:
            raise TooLarge(f"{path.name}: {info.filename} is compressed {ratio:,.0f}:1 (more than "
                           f"{MAX_COMPRESSION_RATIO}:1); refused as a zip bomb")


def refusal(path: Path) -> str | None:
    """Why a listed file must not be opened at all (over the size limit, a zip bomb), or None. A drop folder
    skips such a file with this reason instead of failing on it, so the rest of the folder is imported."""
    try:
        check_size(path)
        if sniff_format(path) == "xlsx":
            check_archive(path)
    except TooLarge as exc:
        return str(exc).removeprefix(f"{path.name}: ")
    except SourceError:
        return None  # unreadable: the import itself fails on it with the reason
    return None


def store_upload(content: bytes, client_name: str | None, allowed: tuple[str, ...] = UPLOAD_TYPES) -> Path:
    """An uploaded file's bytes, checked (size, type, content against its extension), written as
    `upload.<ext>` into a fresh private folder. The name the browser sent is used only for its extension:
    '../../x.csv', '/etc/x.csv' or 'C:\\x.csv' never choose where anything is written."""
    limit = max_upload_bytes()
    label = display_name(client_name)
    kinds = " or ".join("." + a for a in allowed)
    if len(content) > limit:
        raise UploadRefused(too_big(label, len(content), limit), "too_big", mb=len(content) / MB, limit=limit // MB)
    ext = Path(re.split(r"[\\/]", client_name or "")[-1]).suffix.lower().lstrip(".")
    if ext not in allowed:
        raise UploadRefused(f"{label}: unsupported file type; upload {kinds}", "bad_type")
    if not content:
        raise UploadRefused(f"{label}: the file is empty", "empty")
    if _upload_kind(content) != ext:
        raise UploadRefused(f"{label}: the content does not match its extension (.{ext}); save it again as {kinds}",
                            "mismatch", ext=ext)
    if ext == "xlsx":
        try:
            check_archive(Path(label), content)
        except SourceError as exc:
            raise UploadRefused(str(exc), "unreadable") from None
    folder = Path(tempfile.mkdtemp(prefix="sigap_upload_"))
    path = folder / f"upload.{ext}"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
    return path


def _upload_kind(content: bytes) -> str:
    """'xlsx', 'csv', or what else the bytes are ('xls', 'html', 'json', 'binary')."""
    kind = _sniff_bytes(content[:8])
    if kind == "csv" and b"\x00" in content[:4096] and not content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "binary"  # NUL bytes: an image or a document, not text (UTF-16 text starts with its BOM)
    return kind


def discard_upload(path: Path | str) -> None:
    """Remove a stored upload and its private folder."""
    folder = Path(path).parent
    if folder.name.startswith("sigap_upload_"):
        shutil.rmtree(folder, ignore_errors=True)


def display_name(client_name: str | None) -> str:
    """The last part of a client's file name, with anything but letters, digits, '.', '-', '_' and spaces
    replaced: safe to show and to record, never used as a path."""
    base = re.split(r"[\\/]", client_name or "")[-1]
    return re.sub(r"[^\w.\- ]+", "_", base).strip(" .")[:100] or "upload"


def read_table(path: Path, required: list[set[str]], preamble_labels: set[str] = frozenset(),
               known: set[str] = frozenset()) -> Table:
    """Open an xlsx or CSV file and find its header: the first row holding one name of every `required` set
    (with the row below it when that is a second header level; `known` holds every column name expected)."""
    path = Path(path)
    if path.is_symlink():
        raise SourceError(f"{path.name}: symbolic links are not imported")
    if not path.is_file():
        raise SourceError(f"{path}: no such file")
    check_size(path)
    kind = sniff_format(path)
    if kind == "xlsx":
        check_archive(path)
    if kind == "xls":
        raise SourceError(f"{path.name}: old Excel 97-2003 (.xls) files are not supported; save it as .xlsx or CSV")
    if kind == "html":
        raise SourceError(f"{path.name}: this is a web page (HTML), not a spreadsheet export")
    if kind == "json":
        raise SourceError(f"{path.name}: this is a JSON file, not a spreadsheet export")
    raw_rows = _xlsx_rows(path) if kind == "xlsx" else _csv_rows(path)
    return _locate_header(path, raw_rows, required, preamble_labels, known)


def _locate_header(path: Path, raw_rows: Iterator[list], required: list[set[str]], preamble_labels,
                   known: set[str] = frozenset()) -> Table:
    preamble: dict[str, object] = {}
    for row_no, cells in enumerate(raw_rows, start=1):
        keys = [header_key(c) for c in cells]
        present = set(keys)
        if all(present & names for names in required):
            filled = (values for values in raw_rows if _row_filled(values))
            first = next(filled, None)
            if first is not None and _is_second_level(keys, first, required, known):
                # "KOORDINAT" merged over "LATITUDE | LONGITUDE": the lower level names those columns
                keys = [header_key(low) if _filled(low) else key
                        for key, low in itertools.zip_longest(keys, first, fillvalue=None)]
                row_no += 1
            elif first is not None:
                filled = itertools.chain([first], filled)
            header = _unique_headers(keys)
            return Table(path, header, (dict(zip(header, values)) for values in filled), preamble, row_no)
        label = header_key(cells[0]) if cells else ""
        if label in preamble_labels:
            value = next((v for v in cells[1:] if _filled(v)), None)
            preamble[label] = value
        if row_no >= HEADER_SEARCH_ROWS:
            break
    wanted = " / ".join(sorted(next(iter(names)) for names in required))
    raise SourceError(f"{path.name}: no header row with the expected columns ({wanted}) in the first "
                      f"{HEADER_SEARCH_ROWS} rows; is this the right kind of file?")


def _is_second_level(keys: list[str], cells: list, required: list[set[str]], known: set[str]) -> bool:
    """Is the row under the header a second header level (sub-headers under merged cells), not data?

    Only text; nothing in the required columns but their own name repeated (a header merged over two rows);
    and a column name we expect that the first level lacks, or only repeats of the first level."""
    lower = {i: header_key(value) for i, value in enumerate(cells) if _filled(value)}
    if not lower or not all(isinstance(cells[i], str) for i in lower):
        return False
    upper = dict(enumerate(keys))
    if any(i in lower and lower[i] != key for i, key in upper.items() if any(key in names for names in required)):
        return False
    repeats = all(upper.get(i) == key for i, key in lower.items())
    return repeats or any(key in known and key not in upper.values() for key in lower.values())


def _row_filled(values) -> bool:
    """Does the row hold anything (any(_filled(v) for v in values))? A CSV row is all text: one join and strip."""
    try:
        return bool("".join(values).strip())
    except TypeError:  # xlsx cells: numbers, dates, None
        return any(_filled(v) for v in values)


def _filled(value) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _unique_headers(keys: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    header = []
    for i, key in enumerate(keys):
        key = key or f"column_{i + 1}"
        seen[key] = seen.get(key, 0) + 1
        header.append(key if seen[key] == 1 else f"{key}_{seen[key]}")
    return header


def _xlsx_rows(path: Path) -> Iterator[list]:
    """The first sheet's rows, read by calamine (Rust; ~10x openpyxl). Formulas give their saved values."""
    from python_calamine import CalamineWorkbook

    try:
        missing = _formulas_without_value(path)
        workbook = CalamineWorkbook.from_path(str(path))
        sheet = workbook.get_sheet_by_index(0)
        rows = sheet.iter_rows()
    except Exception as exc:  # zipfile and calamine raise many types for corrupt files
        raise SourceError(f"{path.name}: not a readable xlsx workbook ({type(exc).__name__}: {exc})") from exc
    if missing:
        raise SourceError(f"{path.name}: {missing:,} formula cell(s) have no saved result (the file was written by a "
                          f"program and never calculated); open it in Excel or LibreOffice, save it and import again")

    def guarded():
        try:
            yield from rows
        except Exception as exc:
            raise SourceError(f"{path.name}: the workbook is damaged part-way ({type(exc).__name__}: {exc})") from exc

    return guarded()


_FORMULA = re.compile(rb"<f\b[^>]*?(?:/>|>[^<]*</f>)\s*(?:<v>([^<]*)</v>)?")
_SHEET_REL = re.compile(rb'<sheet\b[^>]*?r:id="([^"]+)"')


def _first_sheet_member(archive: zipfile.ZipFile) -> str | None:
    """The zip member of the workbook's first sheet (what calamine's sheet index 0 reads)."""
    try:
        first = _SHEET_REL.search(archive.read("xl/workbook.xml"))
        rels = archive.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return None
    if first is None:
        return None
    target = re.search(rb'<Relationship\b[^>]*?Id="' + re.escape(first.group(1)) + rb'"[^>]*?Target="([^"]+)"', rels) \
        or re.search(rb'<Relationship\b[^>]*?Target="([^"]+)"[^>]*?Id="' + re.escape(first.group(1)) + rb'"', rels)
    if target is None:
        return None
    name = target.group(1).decode()
    return name.lstrip("/") if name.startswith("/") else f"xl/{name}"


def _formulas_without_value(path: Path) -> int:
    """Formula cells of the first sheet without a saved result (read as blank, they would silently lose data).
    Streams the sheet XML; also proves the member decompresses to no more than its declared size."""
    with zipfile.ZipFile(path) as archive:
        member = _first_sheet_member(archive)
        if member is None or member not in archive.namelist():
            return 0
        missing, carry = 0, b""
        with archive.open(member) as stream:
            while block := stream.read(4 * MB):
                data = carry + block
                cut = data.rfind(b"</c>") + 4 if b"</c>" in data else 0
                head, carry = data[:cut], data[cut:]
                if b"<f" in head:
                    missing += sum(1 for m in _FORMULA.finditer(head) if not m.group(1))
                if len(carry) > 64 * MB:  # no cell is this big: not a sheet
                    raise SourceError(f"{path.name}: the first sheet is not valid spreadsheet XML")
        return missing


def _decode(data: bytes, name: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")  # what Indonesian-locale Excel saves


def _csv_rows(path: Path) -> Iterator[list]:
    text = _decode(path.read_bytes(), path.name)
    if "\x00" in text:
        raise SourceError(f"{path.name}: binary content; not a CSV file")
    sample = text[:20000]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ";" if sample.count(";") > sample.count(",") else ","
    csv.field_size_limit(max(csv.field_size_limit(), len(text)))  # one long complaint text is not an error
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)

    def guarded():
        try:
            yield from reader
        except csv.Error as exc:
            raise SourceError(f"{path.name}: not a readable CSV file at line {reader.line_num} ({exc})") from exc

    return guarded()
