"""Change records for contacts that live in a remote address book (Outlook, CardDAV, the loopback test server).

A connector maps whatever the remote side holds into a ``RemoteContact``; core applies it to a
``Person`` (see ``core.integration.apply``). ``remote_id`` is the remote side's stable id of the
item, ``remote_version`` its change key / etag, so an unchanged item is recognised and skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RemoteContact:
    """A contact as a remote address book holds it, or the news that it was deleted there."""

    remote_id: str
    remote_version: str | None = None
    first_name: str = ""
    last_name: str = ""
    emails: tuple[str, ...] = field(default_factory=tuple)
    phones: tuple[str, ...] = field(default_factory=tuple)
    organization: str = ""
    position: str = ""
    deleted: bool = False
