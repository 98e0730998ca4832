"""Keeping secrets out of what the engine stores and logs, even when a connector or a library slips.

Connectors must never put a secret into an error message, and their configs keep secrets as
``SecretStr``. The engine still passes every message it stores (run errors, item errors, the
account's last error) or logs through a ``Redactor`` that knows the account's secret values and
replaces them, because a library deep in a connector may echo its arguments.
"""

from __future__ import annotations

from collections.abc import Iterable

MASK = "***"
MIN_LENGTH = 4
MAX_MESSAGE = 4000


class Redactor:
    """Replaces known secret values in text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets = sorted({s for s in secrets if len(s) >= MIN_LENGTH}, key=len, reverse=True)

    def __call__(self, text: object) -> str:
        """The text with every known secret masked, cut to a storable length."""
        out = str(text)
        for secret in self.secrets:
            out = out.replace(secret, MASK)
        return out[:MAX_MESSAGE]
