"""The four error classes a connector raises; the engine alone decides what each one means.

A connector classifies, it never retries on its own and never swallows:

* ``TransientError``: the server is busy, the network dropped, a timeout. The engine retries
  with exponential backoff and jitter, and honours ``retry_after`` when the server gave one
  (``Retry-After``, ``BackOffMilliseconds``).
* ``AuthError``: the credentials are wrong or expired. The engine marks the account as needing
  re-authentication, tells the admin and stops retrying until someone fixes it.
* ``CursorInvalidError``: the stored position means nothing to the server any more
  (UIDVALIDITY changed, a sync token expired). The engine drops the cursor and resyncs,
  a capped number of times.
* ``PermanentError``: this one item (or this one operation) can never succeed as it is.
  The engine records it with the reason and goes on with the rest.

``step`` names what was being done (``connect``, ``login``, ``select``...), so a check can say
which step failed without parsing the message. Messages must never contain a secret: they are
stored and shown to admins as they are.
"""

from __future__ import annotations


class ConnectorError(Exception):
    """Base of every error a connector may raise to the engine."""

    def __init__(self, message: str, *, detail: str | None = None, step: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.step = step


class TransientError(ConnectorError):
    """A failure that may pass: retry later, after ``retry_after`` seconds if the server said so."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, detail: str | None = None, step: str = ""
    ) -> None:
        super().__init__(message, detail=detail, step=step)
        self.retry_after = retry_after


class AuthError(ConnectorError):
    """The server refused the credentials; nothing helps until someone re-authenticates."""


class CursorInvalidError(ConnectorError):
    """The stored cursor is no longer valid on the server; the stream must be read again from scratch."""


class PermanentError(ConnectorError):
    """This item or operation cannot succeed as it is; record it and go on."""

    def __init__(self, message: str, *, item_ref: str | None = None, detail: str | None = None, step: str = "") -> None:
        super().__init__(message, detail=detail, step=step)
        self.item_ref = item_ref
