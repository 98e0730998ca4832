"""The History tab: a client's audit entries as lines a person reads ("Ivan changed Stage: A → B").

Audit entries keep raw values (ids, ISO dates, codes); here they get names, dates and money in
the reader's language. Empty values of a newly created card are left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from core.models import AuditEntry, Organization, Team, User
from core.normalize import format_phone
from core.rights import can_see_team
from hub.web.card_data import stages_by_id
from hub.web.clients import STATUS_LABELS, stage_name
from hub.web.nav import N_
from hub.web.pages import LoggedInPage

ACTIONS = {"create": N_("created the card"), "update": N_("changed"), "delete": N_("deleted"), "merge": N_("merged")}
FIELD_LABELS = {
    "name": N_("Name"),
    "brand": N_("Brand"),
    "industry": N_("Field of activity"),
    "address": N_("Address"),
    "website": N_("Website"),
    "category": N_("Category"),
    "status": N_("Status"),
    "team_id": N_("Team"),
    "responsible_id": N_("Responsible"),
    "stage_id": N_("Sales stage"),
    "first_contact_on": N_("First contact"),
    "deal_amount": N_("Deal amount"),
    "potential": N_("Potential"),
    "notes": N_("Notes"),
    "emails": N_("E-mails"),
    "phones": N_("Phones"),
    "email_domains": N_("Mail domains"),
    "tags": N_("Tags"),
    "custom": N_("More"),
    "first_name": N_("First name"),
    "middle_name": N_("Middle name"),
    "last_name": N_("Last name"),
    "position": N_("Position"),
    "birthday": N_("Birthday"),
    "organizations": N_("Organizations"),
}
ORDER = list(FIELD_LABELS)


@dataclass
class Change:
    """One field of an entry: its label and the value before and after (None when not shown)."""

    label: str
    old: str | None
    new: str | None


@dataclass
class Line:
    """One audit entry in words."""

    entry: AuditEntry
    who: str
    action: str
    changes: list[Change] = field(default_factory=list)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


class _Values:
    """Turns raw audit values into text, with the names of teams, users, stages and organizations."""

    def __init__(self, page: LoggedInPage, entries: list[AuditEntry]) -> None:
        self.page = page
        ids: dict[str, set[int]] = {"team_id": set(), "responsible_id": set(), "stage_id": set(), "org": set()}
        for entry in entries:
            for name, pair in (entry.changes or {}).items():
                values = pair if isinstance(pair, list) else []
                if name in ids:
                    ids[name].update(v for v in values if isinstance(v, int))
                if name == "organizations":
                    for side in values:
                        ids["org"].update(item[0] for item in side or [] if isinstance(item, list) and item)
        s = page.session
        self.teams = {t.id: t.name for t in s.scalars(select(Team).where(Team.id.in_(ids["team_id"])))}
        self.users = {u.id: u.full_name for u in s.scalars(select(User).where(User.id.in_(ids["responsible_id"])))}
        self.stages = {k: stage_name(v, page.i18n.locale) for k, v in stages_by_id(s, set(ids["stage_id"])).items()}
        orgs = s.scalars(select(Organization).where(Organization.id.in_(ids["org"])))
        self.orgs = {o.id: o.name for o in orgs if can_see_team(page.actor, o.team_id)}

    def text(self, name: str, value: Any) -> str:
        """A value of field ``name`` as text."""
        i18n = self.page.i18n
        if _empty(value):
            return "—"
        names = {"team_id": self.teams, "responsible_id": self.users, "stage_id": self.stages}
        if name in names and isinstance(value, int):
            return names[name].get(value, f"#{value}")
        if name == "status":
            return i18n.gettext(STATUS_LABELS.get(str(value), str(value)))
        if name == "deal_amount":
            try:
                return i18n.money(Decimal(str(value)))
            except InvalidOperation:
                return str(value)
        if name in ("first_contact_on", "birthday"):
            try:
                return i18n.date(date.fromisoformat(str(value)))
            except ValueError:
                return str(value)
        if name == "organizations" and isinstance(value, list):
            parts = []
            for item in value:
                org_id, role = (item + [""])[:2] if isinstance(item, list) else (item, "")
                org = self.orgs.get(org_id, i18n.gettext("an organization of another team"))
                parts.append(f"{org} ({role})" if role else org)
            return ", ".join(parts)
        if name == "phones" and isinstance(value, list):
            return ", ".join(format_phone(str(v)) for v in value)
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        if isinstance(value, dict):
            return ", ".join(f"{k}: {v}" for k, v in value.items())
        text = str(value)
        return text if len(text) <= 300 else text[:300] + "…"


def lines(page: LoggedInPage, entries: list[AuditEntry], people: dict[int, User]) -> list[Line]:
    """The entries in words, newest first as given."""
    values = _Values(page, entries)
    out = []
    for entry in entries:
        if entry.user_id is None:
            who = page._("System")
        else:
            person = people.get(entry.user_id)
            who = person.full_name if person else page._("Deleted user")
        line = Line(entry, who, page._(ACTIONS.get(entry.action, entry.action)))
        changes = entry.changes or {}
        for name in sorted(changes, key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n)):
            pair = changes[name]
            old, new = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
            if _empty(old) and _empty(new):
                continue
            label = page._(FIELD_LABELS.get(name, name))
            shown_old = None if entry.action == "create" else values.text(name, old)
            shown_new = None if entry.action == "delete" else values.text(name, new)
            line.changes.append(Change(label, shown_old, shown_new))
        out.append(line)
    return out
