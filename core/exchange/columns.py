"""Which CSV columns mean which client field, in English and Russian, and turning cells into values.

A header cell is matched after folding case, ``ё`` to ``е``, punctuation and a trailing
number away, so "E-mail", "e-mail 2", "Эл. почта" and "Телефон (рабочий)"... all find their
field. Columns of the same multi-valued field (e-mails, phones, domains, tags) add up; for
other fields the first non-empty cell wins. Admin-defined custom fields are matched by key
and by both labels. Columns that match nothing are listed in the import report as ignored.

The export writes the first English name of each field, so an exported file imports back.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from core.errors import ValidationFailed
from core.models import CustomField

ORG_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": (
        "name",
        "название",
        "наименование",
        "организация",
        "компания",
        "company",
        "organization",
        "organisation",
        "company name",
        "полное наименование",
        "контрагент",
        "клиент",
    ),
    "brand": ("brand", "бренд", "торговая марка", "краткое наименование", "short name"),
    "industry": ("industry", "отрасль", "сфера деятельности", "сфера", "вид деятельности", "field of activity"),
    "address": ("address", "адрес", "юридический адрес", "фактический адрес"),
    "website": ("website", "сайт", "web", "url", "web site", "веб сайт"),
    "category": ("category", "категория"),
    "status": ("status", "статус"),
    "potential": ("potential", "потенциал"),
    "deal_amount": ("deal amount", "deal_amount", "сумма сделки", "сумма"),
    "first_contact_on": (
        "first contact",
        "first_contact_on",
        "first contact on",
        "дата первого обращения",
        "первое обращение",
        "первый контакт",
    ),
    "emails": ("emails", "email", "e mail", "e mails", "mail", "почта", "эл почта", "электронная почта", "емейл"),
    "phones": ("phones", "phone", "tel", "telephone", "телефон", "телефоны", "тел", "мобильный", "mobile"),
    "email_domains": ("email domains", "email_domains", "domains", "domain", "домен", "домены", "почтовый домен"),
    "tags": ("tags", "tag", "теги", "тег", "метки", "метка"),
    "notes": ("notes", "note", "примечание", "примечания", "комментарий", "заметки", "описание"),
}

PERSON_COLUMNS: dict[str, tuple[str, ...]] = {
    "last_name": ("last name", "last_name", "surname", "family name", "фамилия"),
    "first_name": ("first name", "first_name", "given name", "имя"),
    "middle_name": ("middle name", "middle_name", "отчество"),
    "full_name": ("full name", "full_name", "name", "contact", "contact person", "display name"),
    "fio": ("фио", "ф и о", "контактное лицо", "полное имя", "сотрудник"),
    "position": ("position", "title", "job title", "должность"),
    "organization": (
        "organization",
        "organisation",
        "company",
        "организация",
        "компания",
        "место работы",
        "контрагент",
    ),
    "birthday": ("birthday", "birth date", "date of birth", "bday", "дата рождения", "день рождения"),
    "emails": ORG_COLUMNS["emails"],
    "phones": ORG_COLUMNS["phones"],
    "tags": ORG_COLUMNS["tags"],
    "notes": ORG_COLUMNS["notes"],
}

MULTI = frozenset({"emails", "phones", "email_domains", "tags"})
IGNORED_ON_IMPORT = frozenset({"id", "team", "responsible", "created at", "updated at", "last contact"})


def fold(header: str) -> str:
    """A header cell folded for matching: lower case, ``ё``→``е``, punctuation and trailing numbers gone."""
    text = header.replace("\ufeff", "").casefold().replace("ё", "е")
    text = re.sub(r"\(.*?\)", " ", text)
    text = re.sub(r"[^\w]+", " ", text).replace("_", " ")
    text = re.sub(r"\s+\d+$", "", " ".join(text.split()))
    return text


def match_header(
    header: list[str], columns: dict[str, tuple[str, ...]], custom: list[CustomField]
) -> tuple[list[str | None], list[str]]:
    """The field each column feeds (``custom.<key>`` for custom fields, None when unknown) and the ignored headers."""
    lookup: dict[str, str] = {}
    for field, aliases in columns.items():
        for alias in aliases:
            lookup.setdefault(fold(alias), field)
    for definition in custom:
        for alias in (definition.key, definition.label, definition.label_ru):
            if alias:
                lookup.setdefault(fold(alias), f"custom.{definition.key}")
    fields: list[str | None] = []
    ignored: list[str] = []
    for cell in header:
        key = fold(cell)
        field = lookup.get(key)
        fields.append(field)
        if field is None and cell.strip() and key not in IGNORED_ON_IMPORT:
            ignored.append(cell.strip())
    return fields, ignored


def collect(fields: list[str | None], cells: list[str]) -> dict[str, Any]:
    """One row's cells gathered by field: lists for multi-valued fields, the first non-empty text otherwise."""
    out: dict[str, Any] = {}
    for field, raw in zip(fields, cells, strict=False):
        if field is None:
            continue
        cell = unescape_cell(raw).strip()
        if field in MULTI:
            out.setdefault(field, []).extend(split_multi(cell))
        elif cell and not out.get(field):
            out[field] = cell
    return out


def split_multi(cell: str) -> list[str]:
    """The values of a multi-valued cell: separated by commas, semicolons or new lines."""
    return [part.strip() for part in re.split(r"[,;\n]", cell) if part.strip()]


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: str) -> str:
    """Guard a cell against spreadsheet formula injection (a leading ``'``), except phone-like and numbers."""
    if value.startswith(_FORMULA_START) and not re.fullmatch(r"[+-]?[\d\s().,-]+", value):
        return "'" + value
    return value


def unescape_cell(value: str) -> str:
    """Undo ``escape_cell``."""
    if value.startswith("'") and value[1:2] in _FORMULA_START and value[1:2] != "":
        return value[1:]
    return value


def parse_date(value: str, field: str) -> date:
    """A date written as YYYY-MM-DD, DD.MM.YYYY, DD/MM/YYYY or YYYYMMDD (ValidationFailed names the field)."""
    text = value.strip()
    for fmt in ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%Y%m%d", "%d.%m.%y"):
        try:
            return datetime.strptime(text[:10] if fmt == "%Y-%m-%d" else text, fmt).date()
        except ValueError:
            continue
    raise ValidationFailed.one(field, f"'{text}' is not a date (use YYYY-MM-DD or DD.MM.YYYY)")


def parse_int(value: str, field: str) -> int:
    """A whole number (ValidationFailed names the field)."""
    try:
        return int(value.strip())
    except ValueError:
        raise ValidationFailed.one(field, f"'{value.strip()}' is not a whole number") from None


def parse_amount(value: str, field: str) -> Decimal:
    """An amount with a comma or point and spaces as thousand separators."""
    text = re.sub(r"[\s\u00a0]", "", value).replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValidationFailed.one(field, f"'{value.strip()}' is not an amount") from None
    if not amount.is_finite():
        raise ValidationFailed.one(field, f"'{value.strip()}' is not an amount")
    return amount


def split_full_name(full: str, *, russian_order: bool) -> tuple[str, str, str]:
    """(first, middle, last) from a full name: "Фамилия Имя Отчество" or "First [Middle] Last"."""
    parts = full.split()
    if not parts:
        return "", "", ""
    if len(parts) == 1:
        return ("", "", parts[0]) if russian_order else (parts[0], "", "")
    if russian_order:
        return parts[1], " ".join(parts[2:]), parts[0]
    return parts[0], " ".join(parts[1:-1]), parts[-1]
