"""How IMAP failures become the four core error classes; the engine alone decides what each means.

One function, ``classify(exc, step)``, sees every exception the client meets, so the rules live in
one place and are tested in one place:

* The network and TLS (DNS lookups, refused or reset connections, timeouts, handshakes, certificate
  checks, connections the server dropped) are ``TransientError``: the engine retries with backoff,
  and an admin sees from the message which step failed ("connect to mail.example.com:993: DNS
  lookup failed").
* A refused login is ``AuthError``, unless the server says the refusal is temporary (RFC 5530
  ``[UNAVAILABLE]``), and so is a server that forbids plain-text login on this connection.
* A ``NO`` the server says may pass (``[UNAVAILABLE]``, ``[INUSE]``, ``[LIMIT]``, ``[SERVERBUG]``) is
  transient; any other ``NO`` or ``BAD`` (an unknown folder, a missing capability) is
  ``PermanentError``: retrying the same request changes nothing.

Messages carry the step and the server's words, never a secret: a server response cannot contain
the password, and ``secrets`` are masked anyway, in case a library echoes its arguments.
"""

from __future__ import annotations

import imaplib
import re
import socket
import ssl
from collections.abc import Iterable

from imapclient.exceptions import CapabilityError, LoginError

from core.integration import AuthError, ConnectorError, PermanentError, TransientError

_TRANSIENT_CODES = ("[UNAVAILABLE]", "[INUSE]", "[LIMIT]", "[SERVERBUG]", "[OVERQUOTA]", "[CONTACTADMIN]")
_AUTH_CODES = ("[AUTHENTICATIONFAILED]", "[AUTHORIZATIONFAILED]", "[EXPIRED]", "[PRIVACYREQUIRED]")


def classify(exc: BaseException, step: str, *, target: str = "", secrets: Iterable[str] = ()) -> ConnectorError:
    """Map one exception met during ``step`` (connect, login, select...) to a core error class."""
    if isinstance(exc, ConnectorError):
        return exc
    where = f"{step} {target}".strip() if target else step
    detail = _mask(_describe(exc), secrets)

    def msg(text: str) -> str:
        return _mask(f"{where}: {text}", secrets)

    if isinstance(exc, socket.gaierror):
        return TransientError(msg(f"DNS lookup failed ({exc.strerror or exc})"), detail=detail, step=step)
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = getattr(exc, "verify_message", None) or getattr(exc, "reason", None) or "rejected"
        return TransientError(msg(f"TLS certificate verification failed ({reason})"), detail=detail, step=step)
    if isinstance(exc, ssl.SSLError):
        reason = getattr(exc, "reason", None) or exc
        return TransientError(msg(f"TLS handshake failed ({reason})"), detail=detail, step=step)
    if isinstance(exc, ConnectionRefusedError):
        return TransientError(msg("connection refused"), detail=detail, step=step)
    if isinstance(exc, TimeoutError | socket.timeout):
        return TransientError(msg("timed out"), detail=detail, step=step)
    if isinstance(exc, ConnectionError | EOFError):
        return TransientError(msg("connection lost"), detail=detail, step=step)
    if isinstance(exc, OSError):
        return TransientError(msg(f"network error ({exc.strerror or type(exc).__name__})"), detail=detail, step=step)
    if isinstance(exc, imaplib.IMAP4.abort):
        return TransientError(msg(f"connection dropped by the server ({_server_text(exc)})"), detail=detail, step=step)

    text = _server_text(exc)
    upper = text.upper()
    if isinstance(exc, CapabilityError):
        return PermanentError(msg(f"not supported by the server ({text})"), detail=detail, step=step)
    if isinstance(exc, LoginError) or step == "login":
        if any(code in upper for code in _TRANSIENT_CODES):
            return TransientError(msg(f"server temporarily refused the login ({text})"), detail=detail, step=step)
        if "LOGINDISABLED" in upper or "PLAINTEXT" in upper:
            hint = "server refuses plain-text login on this connection; use tls or starttls"
            return AuthError(msg(f"{hint} ({text})"), detail=detail, step=step)
        return AuthError(msg(f"login refused ({text})" if text else "login refused"), detail=detail, step=step)
    if isinstance(exc, imaplib.IMAP4.error):
        if any(code in upper for code in _TRANSIENT_CODES):
            return TransientError(msg(f"server busy ({text})"), detail=detail, step=step)
        if "[NONEXISTENT]" in upper or step == "select":
            return PermanentError(msg(f"folder not found or not selectable ({text})"), detail=detail, step=step)
        return PermanentError(msg(f"refused by the server ({text})"), detail=detail, step=step)
    if isinstance(exc, UnicodeError):
        return PermanentError(msg(f"cannot encode the request ({type(exc).__name__})"), detail=detail, step=step)
    return PermanentError(msg(f"unexpected {type(exc).__name__}"), detail=detail, step=step)


def _server_text(exc: BaseException) -> str:
    text = str(exc.args[0] if exc.args else exc)
    if text.startswith("b'") or text.startswith('b"'):
        text = text[2:-1]
    # imapclient prefixes "<command> failed: "; the admin needs the server's words.
    text = re.sub(r"^\w+ failed: ", "", text)
    # Dovecot appends timings, "(0.001 + 0.000 secs).", which mean nothing to an admin.
    text = re.sub(r"\s*\(\d+\.\d+ \+ [\d. +]*secs?\)\.?", "", text)
    return text.strip()[:300]


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__module__}.{type(exc).__name__}: {str(exc)[:500]}"


def _mask(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
