"""Every table leaves as exactly what is on screen: CSV, or a formatted XLSX (bold frozen header, column widths,
real dates in the region's local time). Exports are written to the audit log when the file is produced.

Privacy: reporter identity columns never leave. For viewers without personal-data rights, every text cell is
masked (metrics.privacy.mask_pii). Text that could run as a spreadsheet formula never does.

    from ui.export import export_buttons
    export_buttons(table, "overdue")          # under any st.dataframe(table)
"""
from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from metrics.privacy import mask_pii
from ui.i18n import register, t

register({
    "export_csv": ("CSV", "CSV"),
    "export_xlsx": ("Excel", "Excel"),
    "export_help": ("Unduh tabel persis seperti yang tampil (filter yang sama).",
                    "Download the table exactly as shown (same filters)."),
})

# Reporter identity: never exported, whatever the role (reporter_contact stays in the database).
PERSONAL_COLUMNS = frozenset({"name", "nik", "phone", "email", "address", "nama", "telepon", "alamat", "no_hp",
                              "reporter", "pelapor", "kontak", "contact"})
# What makes a spreadsheet read a cell as a formula (or DDE command), also in full width and after blanks
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
HEADER_FILL = PatternFill("solid", fgColor="1F3A5F")
HEADER_FONT = Font(bold=True, color="FFFFFF")
MAX_WIDTH = 60
MIMES = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")


def _is_personal(column) -> bool:
    key = re.sub(r"[^a-z]+", "_", str(column).lower()).strip("_")
    return key in PERSONAL_COLUMNS or key.startswith(("reporter", "pelapor")) or key.endswith("_nik")


def sanitise(frame: pd.DataFrame, personal_data: bool = False, identifiers=()) -> pd.DataFrame:
    """The frame fit to leave: identity columns dropped; text masked unless the viewer has personal-data rights.

    `identifiers` name columns of record numbers as the page shows them (a social post id such as
    "1338934216477_2123407107158966" is not a NIK): left as they are."""
    clean = frame.drop(columns=[c for c in frame.columns if _is_personal(c)]).copy()
    if not personal_data:
        for column in clean.columns:
            if column in identifiers:
                continue
            if not pd.api.types.is_numeric_dtype(clean[column]):  # object or string dtype: mask every text
                clean[column] = pd.Series([mask_pii(v) if isinstance(v, str) else v for v in clean[column]],
                                          index=clean.index, dtype=object)
    return clean


def _local(value, tz: ZoneInfo):
    """Zone-aware moments as naive local time (spreadsheets have no zones)."""
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(tz).replace(tzinfo=None)
    return value


def _cells(frame: pd.DataFrame, tz: ZoneInfo) -> list[list]:
    rows = []
    for row in frame.itertuples(index=False):
        rows.append([None if _missing(v) else _local(v, tz) for v in row])
    return rows


def _missing(value) -> bool:
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _guard(text: str) -> str:
    """CSV: a leading apostrophe keeps =SUM(...) and friends from running in a spreadsheet."""
    risky = text.lstrip(" \u00a0\u3000").startswith(FORMULA_START) or text.startswith(FORMULA_START)
    return "'" + text if risky and not _NUMBER.match(text) else text


def to_csv(frame: pd.DataFrame, tz: ZoneInfo) -> bytes:
    """UTF-8 with a byte-order mark (Excel reads Indonesian text right), dates as local 'YYYY-MM-DD HH:MM'."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_guard(str(c)) for c in frame.columns])
    for row in _cells(frame, tz):
        writer.writerow([_csv_value(v) for v in row])
    return out.getvalue().encode("utf-8-sig")


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") if (value.hour, value.minute, value.second) != (0, 0, 0) \
            else value.strftime("%Y-%m-%d")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "1" if value else "0"
    return _guard(value) if isinstance(value, str) else value


def to_xlsx(frame: pd.DataFrame, tz: ZoneInfo, sheet: str = "Sigap") -> bytes:
    """One sheet: bold white-on-navy header frozen at the top, an autofilter, widths fitted to the content."""
    book = Workbook()
    ws = book.active
    ws.title = re.sub(r"[\[\]:*?/\\]", " ", sheet)[:31] or "Sigap"
    ws.append([str(c) for c in frame.columns])
    for cell in ws[1]:
        cell.data_type = "s"  # a header is text too, never a formula
        cell.fill, cell.font = HEADER_FILL, HEADER_FONT
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    for row in _cells(frame, tz):
        ws.append([_xlsx_value(v) for v in row])
    _format_columns(ws, frame)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_value(value):
    if isinstance(value, bool):
        return int(value)
    return value


def _format_columns(ws, frame: pd.DataFrame) -> None:
    for index, column in enumerate(frame.columns, start=1):
        letter = get_column_letter(index)
        width = len(str(column))
        for cell in ws[letter][1:]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text stays text: never a formula
            elif isinstance(cell.value, datetime):
                cell.number_format = "dd/mm/yyyy hh:mm"
            elif isinstance(cell.value, date):
                cell.number_format = "dd/mm/yyyy"
            elif isinstance(cell.value, float):
                cell.number_format = "#,##0.0#"
            width = max(width, _display_width(cell.value))
        ws.column_dimensions[letter].width = min(MAX_WIDTH, width + 2)


def _display_width(value) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    if isinstance(value, float):
        return len(f"{value:,.2f}")
    return max(len(line) for line in str(value).splitlines() or [""])


def export_bytes(frame: pd.DataFrame, fmt: str, tz: ZoneInfo, personal_data: bool = False,
                 sheet: str = "Sigap", identifiers=()) -> bytes:
    """The file for `fmt` ('csv' or 'xlsx') of the frame, sanitised for the viewer."""
    clean = sanitise(frame, personal_data, identifiers)
    return to_csv(clean, tz) if fmt == "csv" else to_xlsx(clean, tz, sheet)


def file_name(name: str, fmt: str, today: date | None = None) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "tabel"
    return f"sigap_{slug}_{(today or date.today()).isoformat()}.{fmt}"


def _producer(frame, fmt, tz, personal_data, name, filename, user, filters_text, engine, identifiers=()):
    """Made when the button is pressed (on Streamlit's download thread): build the file, then audit it."""
    def produce() -> bytes:
        from models.auth import audit

        content = export_bytes(frame, fmt, tz, personal_data, sheet=name, identifiers=identifiers)
        audit(engine, user.username if user else "wall", "exported", obj=filename,
              detail=f"{len(frame)} rows; columns: {', '.join(map(str, frame.columns))}; {filters_text}")
        return content
    return produce


def personal_data_allowed(user, requested: bool) -> bool:
    """Unmasked text only when the page asks for it AND the viewer's role has personal-data rights."""
    from ui.auth import PERSONAL_DATA_ROLES

    return bool(requested and user is not None and user.role in PERSONAL_DATA_ROLES)


def export_buttons(frame: pd.DataFrame, name: str, *, personal_data: bool = False, key: str | None = None,
                   identifiers=()) -> None:
    """CSV and Excel download buttons for `frame`, exactly as shown; `personal_data` only where the viewer has
    the rights to the text in it (agency heads, own agency); `identifiers`: record-number columns, never masked.
    Every download is written to the audit log."""
    from ui import auth, context

    user = auth.current_user()
    allowed = personal_data_allowed(user, personal_data)
    tz = context.region().timezone
    filters_text = f"filters: {st.session_state.get('filters')!r}"
    row = st.container(horizontal=True, gap="small")
    for fmt in ("csv", "xlsx"):
        filename = file_name(name, fmt)
        row.download_button(
            t(f"export_{fmt}"), _producer(frame.copy(), fmt, tz, allowed, name, filename, user, filters_text,
                                          context.engine(), tuple(identifiers)),
            file_name=filename, mime=MIMES[fmt], key=f"export_{key or name}_{fmt}", help=t("export_help"),
            icon=":material/download:", on_click="ignore",
        )
