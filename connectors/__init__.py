"""Channel connectors: each turns one channel's records into validated complaints."""
from __future__ import annotations

from connectors.base import Connector, RecordError, SourceError  # noqa: F401
from connectors.registry import channel_names, connector_for  # noqa: F401
