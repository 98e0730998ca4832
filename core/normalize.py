"""Normalising what people type: phones to E.164, e-mails validated, names to match keys."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from core.errors import ValidationFailed

PUBLIC_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "gmx.de",
        "web.de",
        "mail.ru",
        "inbox.ru",
        "list.ru",
        "bk.ru",
        "yandex.ru",
        "ya.ru",
        "yandex.com",
        "rambler.ru",
        "ukr.net",
        "qq.com",
        "163.com",
    }
)

_LEGAL_FORMS = re.compile(
    r"\b(ооо|оао|зао|пао|ао|ип|llc|ltd|inc|gmbh|ag|plc|corp|co|company|limited)\b\.?", re.IGNORECASE
)


def normalize_phone(raw: str, *, region: str, field: str = "phone") -> str:
    """Return the phone in E.164, or raise ValidationFailed naming the field."""
    text = raw.strip()
    if not text:
        raise ValidationFailed.one(field, "is empty")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationFailed.one(field, f"'{text}' is not a phone number ({exc.args[0]})") from None
    if not phonenumbers.is_possible_number(number):
        raise ValidationFailed.one(field, f"'{text}' is not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def try_normalize_phone(raw: str, *, region: str) -> str | None:
    """The E.164 form of something that may be a phone, or None (for search)."""
    digits = re.sub(r"\D", "", raw)
    if len(digits) < 5:
        return None
    try:
        return normalize_phone(raw, region=region)
    except ValidationFailed:
        return None


def format_phone(e164: str) -> str:
    """A phone in E.164 shown the international way (+7 495 123-45-67)."""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return e164


def normalize_email(raw: str, *, field: str = "email") -> str:
    """Return the e-mail lower-cased, or raise ValidationFailed naming the field."""
    text = raw.strip()
    try:
        result = validate_email(text, check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise ValidationFailed.one(field, f"'{text}' is not a valid e-mail address: {exc}") from None
    return result.normalized.lower()


def normalize_domain(raw: str, *, field: str = "email_domains") -> str:
    """Return a bare lower-case mail domain (``@`` and ``www.`` dropped), or raise."""
    text = raw.strip().lower().lstrip("@")
    text = re.sub(r"^https?://", "", text).split("/")[0].removeprefix("www.")
    if not re.fullmatch(r"[a-z0-9\u0400-\u04ff-]+(\.[a-z0-9\u0400-\u04ff-]+)+", text):
        raise ValidationFailed.one(field, f"'{raw.strip()}' is not a domain")
    return text


def name_key(raw: str) -> str:
    """A key for comparing names: case, accents, quotes, legal forms and punctuation ignored."""
    text = unicodedata.normalize("NFKD", raw).casefold()
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("ё", "е")
    text = _LEGAL_FORMS.sub(" ", text)
    text = re.sub(r"[^\w]+", " ", text)
    return " ".join(text.split())
