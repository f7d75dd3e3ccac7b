"""Byte-stable file writers: xlsx (openpyxl, with fixed metadata and zip timestamps), CSV and JSON."""
from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Iterable
from xml.sax.saxutils import escape

from openpyxl import Workbook


ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # as in real exports; keeps the bytes independent of the clock
SHEET = "xl/worksheets/sheet1.xml"


def write_xlsx(path: Path, rows: Iterable[list], sheet: str, stamp: datetime, fast: bool = False) -> Path:
    """Write rows to a one-sheet workbook; `stamp` replaces every wall-clock time openpyxl would record.

    fast=True (str/int/float/None values only) writes the sheet XML directly, in the same form openpyxl's
    write-only mode produces: without lxml openpyxl needs ~25 us per cell, too slow for the LAPOR exports.
    """
    rows = list(rows)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    sheet_xml = _sheet_xml(rows) if fast else None
    for row in [] if fast else rows:
        ws.append(row)
    width = max((len(r) for r in rows), default=1)
    dimension = f'<dimension ref="A1:{_column_letters(width)[-1]}{max(len(rows), 1)}" />'
    wb.properties.creator = "SP4N-LAPOR!" if sheet == "Laporan Ringkas" else "Sigap sample data"
    wb.properties.created = stamp
    buffer = io.BytesIO()
    wb.save(buffer)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_normalise_zip(buffer.getvalue(), stamp, sheet_xml, dimension))
    return path


def _column_letters(n: int) -> list[str]:
    letters = []
    for i in range(1, n + 1):
        name = ""
        while i:
            i, rem = divmod(i - 1, 26)
            name = chr(65 + rem) + name
        letters.append(name)
    return letters


def _cell(ref: str, value) -> str:
    if isinstance(value, str):
        space = ' xml:space="preserve"' if value != value.strip() else ""
        return f'<c r="{ref}" t="inlineStr"><is><t{space}>{escape(value)}</t></is></c>'
    return f'<c r="{ref}" t="n"><v>{value}</v></c>'


def _sheet_xml(rows: list[list]) -> bytes:
    letters = _column_letters(max((len(r) for r in rows), default=1))
    parts = ['<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetPr>'
             '<outlinePr summaryBelow="1" summaryRight="1" /><pageSetUpPr /></sheetPr><sheetViews>'
             '<sheetView workbookViewId="0"><selection activeCell="A1" sqref="A1" /></sheetView></sheetViews>'
             '<sheetFormatPr baseColWidth="8" defaultRowHeight="15" /><sheetData>']
    for r, row in enumerate(rows, start=1):
        cells = "".join(_cell(f"{letters[c]}{r}", v) for c, v in enumerate(row) if v is not None)
        parts.append(f'<row r="{r}">{cells}</row>' if cells else f'<row r="{r}" />')
    parts.append('</sheetData><pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" '
                 'footer="0.5" /></worksheet>')
    return "".join(parts).encode("utf-8")


def _normalise_zip(data: bytes, stamp: datetime, sheet_xml: bytes | None, dimension: str) -> bytes:
    """Re-pack with fixed entry times and a fixed dcterms:modified, so equal inputs give equal bytes.

    Also adds the sheet's <dimension>, which openpyxl's write-only mode omits and read-only readers use.
    """
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + iso.encode(), content)
            if info.filename == SHEET:
                content = (sheet_xml or content).replace(b"<sheetViews>", dimension.encode() + b"<sheetViews>", 1)
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, content)
    return out.getvalue()


def write_csv(path: Path, header: list[str], rows: Iterable[list], bom: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8-sig" if bom else "utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_json(path: Path, payload) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    return path
