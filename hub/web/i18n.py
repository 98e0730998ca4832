"""Languages of the web UI: gettext catalogs, choosing the locale, and locale-aware formatting.

The catalogs are ``hub/web/locale/<lang>/LC_MESSAGES/messages.po``. There is no build step and
no ``.mo`` file in the repository: each ``.po`` is compiled in memory (Babel's ``read_po`` and
``write_mo`` into a buffer) the first time the language is used in a process. A fresh clone,
``pip install -e .`` and a read-only site-packages install all work the same way, and a
stale ``.mo`` can never shadow an edited ``.po``. Compiling both catalogs takes a few ms.

Updating the catalogs after changing visible strings::

    pybabel extract -F babel.cfg -o /tmp/messages.pot .
    pybabel update -i /tmp/messages.pot -d hub/web/locale --no-fuzzy-matching

then translate the new ``msgstr`` entries in ``ru`` (``en`` may stay empty: the msgid is
English). ``tests/web/test_i18n.py`` fails while a string in the code has no Russian.

The locale of a request is the user's saved language, else the cookie the language switch
sets, else the browser's ``Accept-Language``, else English. Dates and times are shown in the
browser's time zone (a cookie our script sets), else UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from urllib.parse import unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES = ("en", "ru")
DEFAULT_LOCALE = "en"
LOCALE_DIR = Path(__file__).parent / "locale"
LANG_COOKIE = "crmhub_lang"
TZ_COOKIE = "crmhub_tz"
LANGUAGE_NAMES = {"en": "English", "ru": "Русский"}


@lru_cache(maxsize=len(LOCALES))
def translations(locale: str) -> Translations:
    """The compiled catalog of a language (compiled in memory from its .po on first use)."""
    po = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return Translations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer)


def parse_accept_language(header: str) -> list[str]:
    """The languages of an Accept-Language header, most wanted first (two-letter codes)."""
    wanted: list[tuple[float, int, str]] = []
    for n, part in enumerate(header.split(",")):
        piece = part.strip()
        if not piece:
            continue
        tag, _, params = piece.partition(";")
        q = 1.0
        match = re.search(r"q=([0-9.]+)", params)
        if match:
            try:
                q = float(match.group(1))
            except ValueError:
                q = 0.0
        if q > 0:
            wanted.append((-q, n, tag.strip().split("-")[0].lower()))
    return [lang for _, _, lang in sorted(wanted)]


def negotiate(saved: str | None, cookie: str | None, accept_language: str) -> str:
    """The locale to use: saved preference, then the switch's cookie, then the browser's wish."""
    for choice in (saved, cookie):
        if choice in LOCALES:
            return str(choice)
    for lang in parse_accept_language(accept_language):
        if lang in LOCALES:
            return lang
    return DEFAULT_LOCALE


def zone(name: str | None) -> tzinfo:
    """The time zone with this IANA name (URL-encoded, as our script stores it), or UTC when missing or unknown."""
    name = unquote(name) if name else name
    if name and len(name) < 64 and re.fullmatch(r"[A-Za-z0-9_+\-/]+", name):
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return UTC


class I18n:
    """Translations and formatting for one request's language and time zone."""

    def __init__(self, locale: str, tz: tzinfo = UTC, currency: str = "RUB") -> None:
        self.locale = locale if locale in LOCALES else DEFAULT_LOCALE
        self.tz = tz
        self.currency = currency
        self.translations = translations(self.locale)

    def gettext(self, message: str, **variables: object) -> str:
        """The translated message, with ``%(name)s`` variables filled in when given."""
        text = self.translations.gettext(message)
        return text % variables if variables else text

    def ngettext(self, singular: str, plural: str, n: int, **variables: object) -> str:
        """The translated singular or plural form for ``n`` (``%(num)s`` is ``n``)."""
        text = self.translations.ngettext(singular, plural, n)
        return text % {"num": n, **variables}

    def local(self, value: datetime) -> datetime:
        """A timestamp moved to the viewer's time zone."""
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(self.tz)

    def date(self, value: date | datetime | None, fmt: str = "medium") -> str:
        """A date as people of this language write it (empty for None)."""
        if value is None:
            return ""
        if isinstance(value, datetime):
            value = self.local(value).date()
        return dates.format_date(value, format=fmt, locale=self.locale)

    def datetime(self, value: datetime | None, fmt: str = "medium") -> str:
        """A date with the time of day, in the viewer's time zone."""
        if value is None:
            return ""
        local = self.local(value)
        day = dates.format_date(local.date(), format=fmt, locale=self.locale)
        return f"{day}, {dates.format_time(local, format='short', locale=self.locale)}"

    def time(self, value: datetime | None) -> str:
        """The time of day in the viewer's time zone."""
        return "" if value is None else dates.format_time(self.local(value), format="short", locale=self.locale)

    def ago(self, value: datetime | None, now: datetime | None = None) -> str:
        """How long ago (or in how long) a moment is, in words."""
        if value is None:
            return ""
        delta = (value if value.tzinfo else value.replace(tzinfo=UTC)) - (now or datetime.now(UTC))
        if abs(delta) < timedelta(minutes=1):
            return self.gettext("just now")
        return dates.format_timedelta(delta, add_direction=True, threshold=1.1, locale=self.locale)

    def number(self, value: int | float | Decimal | None) -> str:
        """A number with this language's separators."""
        return "" if value is None else numbers.format_decimal(value, locale=self.locale)

    def money(self, value: int | float | Decimal | None, currency: str | None = None) -> str:
        """An amount of money with its currency, as this language writes it."""
        if value is None:
            return ""
        code = currency or self.currency
        pattern = Locale.parse(self.locale).currency_formats["standard"].pattern
        if Decimal(str(value)) == Decimal(str(value)).to_integral_value():
            pattern = pattern.replace("0.00", "0")
        text = numbers.format_currency(value, code, format=pattern, locale=self.locale, currency_digits=False)
        # "RUB1,000" -> "RUB 1,000": a letter code never touches the digits.
        return re.sub(r"([A-Z]{3})(?=[\d-])", "\\1\u00a0", text)

    def percent(self, value: int | float | None) -> str:
        """A whole percentage (``probability`` 40 -> 40 %)."""
        return "" if value is None else numbers.format_percent(value / 100, locale=self.locale)

    def size(self, value: int | None) -> str:
        """A file size in bytes, KB or MB."""
        if value is None:
            return ""
        if value < 1024:
            return self.gettext("%(n)s B", n=self.number(value))
        if value < 1024 * 1024:
            return self.gettext("%(n)s KB", n=self.number(round(value / 1024, 1)))
        return self.gettext("%(n)s MB", n=self.number(round(value / 1024 / 1024, 1)))
