"""The navigation of the web UI: every page group registers its entries here.

A module adds its entry at import time::

    nav.add(NavItem("pipeline", "/pipeline", N_("Pipeline"), icon="columns", order=40))

``order`` keeps the menu stable whatever the import order: 10 My day, 20 organizations,
30 persons, 40 pipeline, 50 calendar, 60 marketing, 80 sync console, 90 admin. ``roles``
limits an entry to some roles (admins always see everything). The label is an English
msgid, translated when the menu is drawn; ``icon`` names a symbol in ``static/icons.svg``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.actor import Actor
from core.models import Role


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "translate later"
    """Mark a string for extraction; it is translated when shown."""
    return message


@dataclass(frozen=True)
class NavItem:
    """One entry of the menu."""

    key: str
    path: str
    label: str
    icon: str = "dot"
    order: int = 50
    roles: frozenset[Role] = field(default_factory=frozenset)
    section: str = "main"
    """``main`` for work pages, ``admin`` for the admin group at the bottom."""

    def allowed(self, actor: Actor) -> bool:
        """True when this actor may open the page."""
        return not self.roles or actor.is_admin or actor.role in self.roles


_items: dict[str, NavItem] = {}


def add(item: NavItem) -> None:
    """Register (or replace) a menu entry."""
    _items[item.key] = item


def items_for(actor: Actor, section: str = "main") -> list[NavItem]:
    """The entries this actor sees in a section, in menu order."""
    return sorted(
        (i for i in _items.values() if i.section == section and i.allowed(actor)), key=lambda i: (i.order, i.key)
    )


def active_key(path: str) -> str:
    """The key of the entry whose path is the longest prefix of ``path``."""
    best, length = "", 0
    for item in _items.values():
        if (path == item.path or path.startswith(item.path.rstrip("/") + "/")) and len(item.path) > length:
            best, length = item.key, len(item.path)
    return best
