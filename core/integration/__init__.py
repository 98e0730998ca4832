"""What connectors and the sync engine agree on: the contract, the errors and the change records."""

from core.integration.contract import (
    Batch,
    CheckResult,
    Connector,
    ConnectorContext,
    ItemFailure,
    PushOperation,
    PushResult,
    StreamInfo,
)
from core.integration.errors import (
    AuthError,
    ConnectorError,
    CursorInvalidError,
    PermanentError,
    TransientError,
)

__all__ = [
    "AuthError",
    "Batch",
    "CheckResult",
    "Connector",
    "ConnectorContext",
    "ConnectorError",
    "CursorInvalidError",
    "ItemFailure",
    "PermanentError",
    "PushOperation",
    "PushResult",
    "StreamInfo",
    "TransientError",
]
