"""What the user typed, read once: name words, an e-mail, a phone (any format) or its digits, a tag.

The same text may be several things at once ("ivan" is a name and the start of an e-mail;
"495 123" is the start of a phone), so the parse keeps every reading that is plausible and the
tiers decide what to look for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

from core.normalize import name_key, try_normalize_phone

_EMAILISH = re.compile(r"^[\w.+\-@]+$")


@dataclass(frozen=True)
class ParsedQuery:
    """One search text in the forms the index is searched by."""

    text: str
    key: str
    """The name key of the text (as ``name_key`` stores names)."""
    tokens: tuple[str, ...]
    """The words of ``key``."""
    tag: str
    """The text as a tag is written (spaces collapsed, ё as е), matched without case."""
    email: str
    """The text lower-cased when it can be (the start of) an e-mail (ASCII, no spaces, not a phone)."""
    e164: str
    """The phone in E.164 when the text can be one (looked up exactly), else empty."""
    whole_phone: bool
    """True when ``e164`` is a valid, complete number (its digits inside other phones mean nothing)."""
    digit_runs: tuple[str, ...]
    """Digit strings to find inside stored phones (the digits typed, and with the trunk prefix
    swapped for the country code: 8 495... is +7 495...); empty when the text is not a phone."""

    @property
    def is_phone(self) -> bool:
        """True when the text reads as (part of) a phone number rather than a name."""
        return bool(self.digit_runs)

    @property
    def is_email(self) -> bool:
        """True when the text has an @: only e-mails are searched then."""
        return "@" in self.email


def _digit_runs(text: str, region: str) -> tuple[str, ...]:
    digits = re.sub(r"\D", "", text)
    letters = re.sub(r"[\d\s()+\-.]", "", text)
    if len(digits) < 4 or letters:
        return ()
    runs = [digits]
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    trunk = (metadata.national_prefix or "") if metadata else ""
    if trunk and digits.startswith(trunk) and not text.lstrip().startswith("+"):
        runs.append(str(metadata.country_code) + digits[len(trunk) :])
    return tuple(dict.fromkeys(runs))


def parse_query(text: str, *, region: str) -> ParsedQuery:
    """Read a search text: its name key and words, tag form, e-mail form and phone forms."""
    text = " ".join(text.split())
    key = name_key(text)
    lowered = text.casefold()
    runs = _digit_runs(text, region)
    # E-mails are ASCII in practice; a text of digits is a phone, not the start of an address.
    emailish = lowered.isascii() and bool(_EMAILISH.match(lowered)) and (not runs or "@" in lowered)
    email = lowered if emailish else ""
    e164 = (try_normalize_phone(text, region=region) or "") if runs else ""
    whole = bool(e164) and phonenumbers.is_valid_number(phonenumbers.parse(e164))
    return ParsedQuery(
        text=text,
        key=key,
        tokens=tuple(key.split()),
        tag=lowered.replace("ё", "е"),
        email=email,
        e164=e164,
        whole_phone=whole,
        digit_runs=runs,
    )
