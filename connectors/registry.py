"""Which connector class serves which channel. Built-in channels are listed here; any other channel is a
`generic` one, defined entirely by a mapping file named in the region's channels.toml."""
from __future__ import annotations

from importlib import import_module
from pathlib import Path

from connectors.base import Connector, SourceError
from regions import Region, load_region

BUILTIN: dict[str, str] = {
    "lapor": "connectors.lapor:LaporConnector",
    "call112": "connectors.call112:Call112Connector",
    "social": "connectors.social:SocialConnector",
    "wargaku": "connectors.json_api:JsonApiConnector",
    "mediacenter": "connectors.json_api:JsonApiConnector",
    "jss": "connectors.json_api:JsonApiConnector",
    "open311": "connectors.open311:Open311Connector",
}
GENERIC = "connectors.generic:GenericConnector"


def _load(target: str) -> type[Connector]:
    module, _, name = target.partition(":")
    return getattr(import_module(module), name)


def channel_names(region: Region | None = None) -> list[str]:
    region = region or load_region()
    return sorted(set(BUILTIN) | set(region.channels))


def connector_for(channel: str, region: Region | None = None, source: str | Path | None = None,
                  **kwargs) -> Connector:
    """A ready connector for `channel`; `source` is a file to read instead of the channel's own endpoint."""
    region = region or load_region()
    settings = region.channel_settings(channel)
    target = BUILTIN.get(channel) or (GENERIC if settings.get("mapping") else None)
    if target is None:
        raise SourceError(f"unknown channel {channel!r}; known: {', '.join(channel_names(region))} "
                          f"(a new channel needs a [{channel}] table with a mapping in channels.toml)")
    return _load(target)(channel=channel, region=region, source=source, **kwargs)
