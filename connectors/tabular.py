"""Connectors for spreadsheet-like sources, driven by a declarative column mapping (connectors/mappings/*.toml)."""
from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

from connectors.base import Connector, RecordError, SourceError
from connectors.files import header_key, read_table
from connectors.values import is_blank, text

MAPPINGS_DIR = Path(__file__).resolve().parent / "mappings"


def load_mapping(name_or_path: str | Path, base: Path | None = None) -> dict:
    """A mapping by name (connectors/mappings/<name>.toml) or by path (relative paths from `base`,
    the region folder)."""
    path = Path(name_or_path)
    if not path.suffix:
        path = MAPPINGS_DIR / f"{name_or_path}.toml"
    elif not path.is_absolute() and base is not None:
        path = base / path
    try:
        mapping = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourceError(f"mapping file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise SourceError(f"mapping file {path}: {exc}") from exc
    for table in ("columns", "status", "kind"):
        if not isinstance(mapping.get(table, {}), dict):
            raise SourceError(f"mapping file {path}: [{table}] must be a table; top-level keys must come "
                              f"before the first [table] header")
    mapping["columns"] = {f: [header_key(n) for n in ([names] if isinstance(names, str) else names)]
                          for f, names in mapping.get("columns", {}).items()}
    mapping["status"] = {header_key(k): v for k, v in mapping.get("status", {}).items()}
    mapping["kind"] = {(k if k == "default" else header_key(k)): v for k, v in mapping.get("kind", {}).items()}
    return mapping


class TabularConnector(Connector):
    """Reads one file per `fetch`; subclasses turn a row into a ComplaintIn using `self.value(row, field)`."""

    mapping_name: str

    def __init__(self, source: str | Path | None = None, **kwargs):
        super().__init__(**kwargs)
        self.source = Path(source) if source else None
        self.mapping = load_mapping(self.settings.get("mapping") or self.mapping_name, self.region.path)
        self.preamble: dict = {}
        self._columns: dict[str, str] = {}

    def fetch(self, since: str | None = None) -> Iterator[dict]:
        if self.source is None:
            raise SourceError(f"{self.name}: no file given")
        required = [set(self.mapping["columns"][f]) for f in self.mapping.get("required", [])]
        preamble_labels = {header_key(label) for label in self.mapping.get("preamble", [])}
        known = {name for names in self.mapping["columns"].values() for name in names}
        table = read_table(self.source, required, preamble_labels, known)
        self.preamble = table.preamble
        self._columns = self._resolve_columns(table.header)
        self.on_open()
        for offset, row in enumerate(table.rows, start=1):
            row["_row"] = table.header_row + offset
            yield row

    def on_open(self) -> None:
        """Hook: read what the preamble says once the file is open."""

    def _resolve_columns(self, header: list[str]) -> dict[str, str]:
        present = set(header)
        return {f: next(n for n in names if n in present)
                for f, names in self.mapping["columns"].items() if any(n in present for n in names)}

    def has(self, field: str) -> bool:
        return field in self._columns

    def value(self, row: dict, field: str):
        """The row's value for a mapped field; for fields with several candidate columns, the first filled one."""
        for name in self.mapping["columns"].get(field, ()):
            if name in row and not is_blank(row[name]):
                return row[name]
        return None

    def text(self, row: dict, field: str) -> str | None:
        return text(self.value(row, field))

    def source_id_of(self, raw: dict) -> str | None:
        return self.text(raw, "source_id")

    def status(self, raw_status: str | None) -> str:
        if raw_status is None:
            raise RecordError("status is empty")
        status = self.mapping["status"].get(header_key(raw_status))
        if status is None:
            raise RecordError(f"unknown status {raw_status!r}: add it to the [status] table of the {self.name} mapping")
        return status

    def kind(self, raw_kind: str | None) -> str:
        table = self.mapping["kind"]
        return table.get(header_key(raw_kind), table.get("default", "complaint"))
