"""Decoding uploaded text files whose encoding nobody states.

Files come from Excel on Russian Windows (Windows-1251, or UTF-8 with a BOM when saved as
"CSV UTF-8"), from Outlook and phones (UTF-8, sometimes UTF-16 with a BOM), from Google
(UTF-8). The rule is simple and deterministic: a BOM decides; otherwise text that is valid
UTF-8 is UTF-8 (Cyrillic in Windows-1251 is practically never valid UTF-8); anything else is
read as Windows-1251, the one legacy encoding our users produce.
"""

from __future__ import annotations

import codecs

BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode(data: bytes) -> tuple[str, str]:
    """The text of an uploaded file and the encoding it was read with."""
    for bom, encoding in BOMS:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace"), encoding
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1251", errors="replace"), "windows-1251"
