"""How failures of the loopback server become the four core error classes.

The "network" of this connector is the file system: a missing server folder or unreadable
data is what a refused connection or a garbled response is elsewhere, and passes (a test may
create the folder later), so it is transient. The server's own refusals are raised by
``client.py`` directly as core errors.
"""

from __future__ import annotations

import json

from core.integration import ConnectorError, TransientError


def classify(exc: BaseException, step: str) -> ConnectorError:
    """Map an exception met during ``step`` (connect, read, write) to a core error class."""
    if isinstance(exc, ConnectorError):
        return exc
    if isinstance(exc, FileNotFoundError):
        return TransientError(f"{step}: the server folder is not there ({exc.filename})")
    if isinstance(exc, json.JSONDecodeError):
        return TransientError(f"{step}: the server's data is unreadable ({exc.msg} at line {exc.lineno})")
    if isinstance(exc, OSError):
        return TransientError(f"{step}: {exc.strerror or exc}")
    return TransientError(f"{step}: {type(exc).__name__}: {exc}")
