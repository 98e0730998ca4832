"""Settings of one loopback account: where the server folder is, and the password it expects.

The password is a ``SecretStr`` like any connector secret, so the engine seals it at rest and
tests can prove it never leaks into a response or a log line.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator


class LoopbackConfig(BaseModel):
    """Connection settings of a loopback account."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    path: str = Field(description="absolute path of the server folder")
    password: SecretStr = Field(description="the password the server expects; stored encrypted")
    batch_size: int = Field(100, ge=1, le=1000, description="contacts per batch (1-1000)")
    delete_removed_persons: bool = Field(
        False, description="delete the CRM person when the contact is deleted on the server (default: keep it)"
    )

    @field_validator("path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not Path(value).is_absolute():
            raise ValueError("give the absolute path of the server folder")
        return value
