"""vCard 3.0 and 4.0 for contact persons, read and written with ``vobject``.

Reading: ``vobject`` parses both versions (folded lines, escaped commas and semicolons,
``ENCODING=QUOTED-PRINTABLE`` with soft line breaks when asked with ``allowQP``), but it
stops at the first card it cannot parse. So the file is first cut into ``BEGIN:VCARD`` ...
``END:VCARD`` blocks here, and each block is parsed alone: a broken card becomes one failed
item (with its number and first line) and the cards after it are still read. The fields
used are N, FN, EMAIL, TEL (a 4.0 ``tel:`` URI is unwrapped), ORG, TITLE, BDAY (a date
without a year, ``--MMDD``, is skipped with a warning), NOTE and CATEGORIES; several EMAIL
and TEL lines are all kept.

Writing: one card per person, version 3.0 (what Outlook and most phones read) or 4.0.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import vobject

from core.exchange.text import decode
from core.models import Person, PointKind

VERSIONS = ("3.0", "4.0")


@dataclass
class CardItem:
    """One card of a file: its number, first line, the person's values or why it could not be read."""

    number: int
    line: int
    values: dict[str, Any] | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)


def _blocks(text: str) -> Iterator[tuple[int, int, str | None, str | None]]:
    """(card number, first line, block text or None, error) for each BEGIN:VCARD in the text."""
    number = 0
    start = 0
    lines: list[str] | None = None
    for index, raw in enumerate(text.splitlines(), start=1):
        tag = raw.strip().upper()
        if tag == "BEGIN:VCARD":
            if lines is not None:
                yield number, start, None, "has no END:VCARD before the next card"
            number += 1
            start, lines = index, [raw]
        elif lines is not None:
            lines.append(raw)
            if tag == "END:VCARD":
                yield number, start, "\r\n".join(lines) + "\r\n", None
                lines = None
    if lines is not None:
        yield number, start, None, "has no END:VCARD (the file ends inside the card)"


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return " ".join(_text(v) for v in value if v)
    return " ".join(str(value or "").split())


def _values(card: Any, key: str) -> list[Any]:
    return [line.value for line in card.contents.get(key, [])]


def _birthday(raw: str, warnings: list[str]) -> date | None:
    text = raw.strip()
    if not text:
        return None
    if text.startswith("--"):
        warnings.append(f"BDAY '{text}' has no year and was skipped")
        return None
    digits = text[:10] if "-" in text[:10] else text[:8]
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return datetime.strptime(digits, fmt).date()
        except ValueError:
            continue
    warnings.append(f"BDAY '{text}' is not a date and was skipped")
    return None


def card_to_values(card: Any, warnings: list[str]) -> dict[str, Any]:
    """The person fields of one parsed card (create_person keyword arguments, plus ``organization``)."""
    first = middle = last = ""
    names = card.contents.get("n", [])
    if names:
        n = names[0].value
        first, middle, last = _text(n.given), _text(n.additional), _text(n.family)
    if not (first or last):
        full = _text(_values(card, "fn")[0]) if _values(card, "fn") else ""
        parts = full.split()
        if len(parts) == 1:
            first = parts[0]
        elif parts:
            first, middle, last = parts[0], " ".join(parts[1:-1]), parts[-1]
    values: dict[str, Any] = {"first_name": first, "middle_name": middle, "last_name": last}
    values["emails"] = [_text(v) for v in _values(card, "email") if _text(v)]
    phones = []
    for raw in _values(card, "tel"):
        text = _text(raw)
        text = re.sub(r"^tel:", "", text, flags=re.IGNORECASE).split(";")[0]
        if text:
            phones.append(text)
    values["phones"] = phones
    orgs = _values(card, "org")
    if orgs:
        org = orgs[0]
        values["organization"] = _text(org[0] if isinstance(org, list | tuple) and org else org)
    titles = _values(card, "title")
    if titles:
        values["position"] = _text(titles[0])[:200]
    bdays = _values(card, "bday")
    if bdays:
        birthday = _birthday(_text(bdays[0]), warnings)
        if birthday is not None:
            values["birthday"] = birthday
    notes = _values(card, "note")
    if notes:
        values["notes"] = "\n".join(str(n).strip() for n in notes if str(n).strip())
    tags: list[str] = []
    for value in _values(card, "categories"):
        tags += [str(t).strip() for t in (value if isinstance(value, list | tuple) else str(value).split(","))]
    values["tags"] = [t for t in tags if t]
    return values


def read_vcards(data: bytes) -> tuple[list[CardItem], str]:
    """Every card of a vCard file as an item (values or error), and the encoding it was read with."""
    text, encoding = decode(data)
    items: list[CardItem] = []
    for number, line, block, error in _blocks(text):
        item = CardItem(number=number, line=line)
        if block is None:
            item.error = f"vCard {number} (line {line}) {error}"
        else:
            try:
                card = vobject.readOne(block, allowQP=True)
                item.values = card_to_values(card, item.warnings)
            except Exception as exc:  # vobject raises many kinds on broken input; each is one bad card
                reason = str(exc).strip() or exc.__class__.__name__
                item.error = f"vCard {number} (line {line}) cannot be read: {reason}"
        items.append(item)
    return items, encoding


def looks_like_vcard(data: bytes) -> bool:
    """True when the file starts (after a BOM and blank lines) with BEGIN:VCARD."""
    text, _ = decode(data[:4096])
    return text.lstrip("\ufeff \r\n\t").upper().startswith("BEGIN:VCARD")


def person_card(person: Person, *, version: str = "3.0") -> str:
    """One person as a vCard of the given version."""
    card = vobject.vCard()
    card.add("version").value = version
    card.add("uid").value = f"crmhub-person-{person.id}"
    card.add("n").value = vobject.vcard.Name(
        family=person.last_name, given=person.first_name, additional=person.middle_name
    )
    card.add("fn").value = person.full_name
    for point in person.points:
        if point.kind == PointKind.email:
            card.add("email").value = point.value
        elif point.kind == PointKind.phone:
            card.add("tel").value = point.value
    primary = next((e for e in person.employments if e.is_primary), None) or next(iter(person.employments), None)
    if primary is not None:
        card.add("org").value = [primary.organization.name]
    title = person.position or (primary.role if primary else "")
    if title:
        card.add("title").value = title
    if person.birthday:
        card.add("bday").value = person.birthday.isoformat()
    if person.notes:
        card.add("note").value = person.notes
    if person.tags:
        card.add("categories").value = [t.name for t in person.tags]
    return card.serialize()


def write_vcards(persons: Iterable[Person], *, version: str = "3.0") -> Iterator[str]:
    """The cards of these persons, one string each."""
    for person in persons:
        yield person_card(person, version=version)
