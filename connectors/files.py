"""Reading tabular files as people really send them: xlsx or CSV, any encoding, any delimiter, a preamble
above the header, merged or renamed headers."""
from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from connectors.base import SourceError

MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_XLSX_UNCOMPRESSED = 1024 * 1024 * 1024  # a zip bomb expands far beyond this
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


def check_size(path: Path, limit: int = MAX_FILE_BYTES) -> None:
    size = path.stat().st_size
    if size > limit:
        raise SourceError(f"{path.name}: {size / 1e6:.0f} MB is larger than the {limit / 1e6:.0f} MB limit")


def read_table(path: Path, required: list[set[str]], preamble_labels: set[str] = frozenset()) -> Table:
    """Open an xlsx or CSV file and find its header: the first row holding one name of every `required` set."""
    path = Path(path)
    if path.is_symlink():
        raise SourceError(f"{path.name}: symbolic links are not imported")
    if not path.is_file():
        raise SourceError(f"{path}: no such file")
    check_size(path)
    kind = sniff_format(path)
    if kind == "xls":
        raise SourceError(f"{path.name}: old Excel 97-2003 (.xls) files are not supported; save it as .xlsx or CSV")
    if kind == "html":
        raise SourceError(f"{path.name}: this is a web page (HTML), not a spreadsheet export")
    if kind == "json":
        raise SourceError(f"{path.name}: this is a JSON file, not a spreadsheet export")
    raw_rows = _xlsx_rows(path) if kind == "xlsx" else _csv_rows(path)
    return _locate_header(path, raw_rows, required, preamble_labels)


def _locate_header(path: Path, raw_rows: Iterator[list], required: list[set[str]], preamble_labels) -> Table:
    preamble: dict[str, object] = {}
    for row_no, cells in enumerate(raw_rows, start=1):
        keys = [header_key(c) for c in cells]
        present = set(keys)
        if all(present & names for names in required):
            header = _unique_headers(keys)
            rows = (dict(zip(header, values)) for values in raw_rows if any(_filled(v) for v in values))
            return Table(path, header, rows, preamble, row_no)
        label = header_key(cells[0]) if cells else ""
        if label in preamble_labels:
            value = next((v for v in cells[1:] if _filled(v)), None)
            preamble[label] = value
        if row_no >= HEADER_SEARCH_ROWS:
            break
    wanted = " / ".join(sorted(next(iter(names)) for names in required))
    raise SourceError(f"{path.name}: no header row with the expected columns ({wanted}) in the first "
                      f"{HEADER_SEARCH_ROWS} rows; is this the right kind of file?")


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
    """The first sheet's rows, read by calamine (Rust; ~10x openpyxl). Formulas give their cached values."""
    from python_calamine import CalamineWorkbook

    try:
        with zipfile.ZipFile(path) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_XLSX_UNCOMPRESSED:
                raise SourceError(f"{path.name}: the workbook expands to more than 1 GB; refused")
        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
        rows = sheet.iter_rows()
    except SourceError:
        raise
    except Exception as exc:  # zipfile and calamine raise many types for corrupt files
        raise SourceError(f"{path.name}: not a readable xlsx workbook ({type(exc).__name__}: {exc})") from exc

    def guarded():
        try:
            yield from rows
        except Exception as exc:
            raise SourceError(f"{path.name}: the workbook is damaged part-way ({type(exc).__name__}: {exc})") from exc

    return guarded()


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
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    return (row for row in reader)
