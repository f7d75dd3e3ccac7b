"""Channel connectors: each turns one channel's records into validated complaints."""
from __future__ import annotations

from connectors.base import Connector, RecordError, SourceError  # noqa: F401
from connectors.lapor import LaporConnector

FILE_CONNECTORS: dict[str, type[Connector]] = {
    LaporConnector.name: LaporConnector,
}
