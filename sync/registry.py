"""The connector registry: every installed connector, found through the ``crmhub.connectors`` entry points.

A connector package declares itself in its ``pyproject.toml`` (ours do too)::

    [project.entry-points."crmhub.connectors"]
    loopback = "connectors.loopback.connector:LoopbackConnector"

The engine never imports a connector by name (import-linter forbids it): it loads the entry
points once per process and knows each connector by its ``kind``, its pydantic config model
(``SecretStr`` fields are the secrets core seals), the streams it offers and its directions.
A connector class may list its streams in an optional ``offered_streams`` class attribute
(``StreamInfo`` items) so the hub can show them before an account exists; an account's real
streams come from ``Connector.streams()``. A connector offers ``push`` when it overrides it.

An entry point that fails to load is logged and left out, so one broken connector does not
stop the others; accounts of a kind that is not installed fail with a message saying so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import entry_points

from pydantic import BaseModel
from sqlalchemy.orm import Session

from core.config import get_settings
from core.errors import ValidationFailed
from core.integration import Connector, ConnectorContext, StreamInfo
from core.integration.accounts import load_config, secret_fields
from core.models import ConnectorAccount, User

GROUP = "crmhub.connectors"
log = logging.getLogger("crmhub.sync")


@dataclass(frozen=True)
class ConnectorInfo:
    """What the engine and the hub know of one installed connector."""

    kind: str
    title: str
    cls: type[Connector]
    config_model: type[BaseModel]
    streams: tuple[StreamInfo, ...]
    directions: tuple[str, ...]
    secret_fields: tuple[str, ...]


def _info(cls: type[Connector]) -> ConnectorInfo:
    streams = tuple(getattr(cls, "offered_streams", ()))
    pulls = not streams or any(s.direction in ("pull", "both") for s in streams)
    pushes = cls.push is not Connector.push
    directions = tuple(d for d, on in (("pull", pulls), ("push", pushes)) if on)
    return ConnectorInfo(
        kind=cls.kind,
        title=cls.title,
        cls=cls,
        config_model=cls.config_model,
        streams=streams,
        directions=directions,
        secret_fields=secret_fields(cls.config_model),
    )


@lru_cache(maxsize=1)
def registry() -> dict[str, ConnectorInfo]:
    """Every connector that loads, by kind (read once per process)."""
    found: dict[str, ConnectorInfo] = {}
    for ep in entry_points(group=GROUP):
        try:
            cls = ep.load()
        except Exception:  # noqa: BLE001 - one broken plug-in must not stop the others
            log.exception("connector entry point %s (%s) failed to load; it is left out", ep.name, ep.value)
            continue
        if not (isinstance(cls, type) and issubclass(cls, Connector)):
            log.error("connector entry point %s (%s) is not a Connector class; it is left out", ep.name, ep.value)
            continue
        if cls.kind != ep.name:
            log.warning(
                "connector entry point %s names a class of kind %s; it is known as %s", ep.name, cls.kind, cls.kind
            )
        found[cls.kind] = _info(cls)
    return found


def connector_info(kind: str) -> ConnectorInfo:
    """The installed connector of this kind, or ValidationFailed naming the kinds there are."""
    info = registry().get(kind)
    if info is None:
        installed = ", ".join(sorted(registry())) or "none"
        raise ValidationFailed.one("kind", f"there is no connector of kind '{kind}' installed (installed: {installed})")
    return info


def build_connector(session: Session, account: ConnectorAccount) -> Connector:
    """A connector instance for the account, with its config (secrets unsealed) and context."""
    info = connector_info(account.kind)
    config = load_config(account, config_model=info.config_model)
    owner = session.get(User, account.owner_id) if account.owner_id else None
    context = ConnectorContext(
        account_id=account.id,
        owner_email=owner.email if owner else None,
        internal_domains=tuple(get_settings().internal_domains),
    )
    return info.cls(config, context)
