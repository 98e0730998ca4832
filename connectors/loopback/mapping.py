"""Loopback contact <-> CRM record: pure functions.

The server's contacts use their own field names (``company``, ``title``), so the mapping is
not a plain copy, just as with a real address book. The item's sequence number is its version.
"""

from __future__ import annotations

import json
from typing import Any

from core.integration import ItemFailure, PermanentError
from core.integration.records import RemoteContact


def to_record(item: dict[str, Any]) -> RemoteContact:
    """The change record for a server contact; PermanentError when it cannot be one."""
    if item.get("deleted"):
        return RemoteContact(remote_id=item["id"], remote_version=str(item["seq"]), deleted=True)
    first, last = str(item.get("first_name") or "").strip(), str(item.get("last_name") or "").strip()
    if not first and not last:
        raise PermanentError(f"contact {item['id']} has neither a first nor a last name", item_ref=item["id"])
    return RemoteContact(
        remote_id=item["id"],
        remote_version=str(item["seq"]),
        first_name=first,
        last_name=last,
        emails=tuple(str(e) for e in item.get("emails") or ()),
        phones=tuple(str(p) for p in item.get("phones") or ()),
        organization=str(item.get("company") or ""),
        position=str(item.get("title") or ""),
    )


def unreadable(item: dict[str, Any], reason: str) -> ItemFailure:
    """An item the engine should record as skipped, with the raw item."""
    return ItemFailure(item_ref=str(item.get("id", "?")), reason=reason, raw=json.dumps(item, ensure_ascii=False))


def to_payload(record: RemoteContact) -> dict[str, Any]:
    """The push payload (server field names) for a contact record."""
    return {
        "first_name": record.first_name,
        "last_name": record.last_name,
        "emails": list(record.emails),
        "phones": list(record.phones),
        "company": record.organization,
        "title": record.position,
    }
