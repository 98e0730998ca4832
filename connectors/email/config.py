"""Settings of one IMAP account, as an admin enters them in the UI or the CLI.

A pydantic model: the hub shows each validation message next to its field, so every message says
what is wrong in words an admin understands. The password is a ``SecretStr``: it prints as
``**********`` in reprs, logs and error pages, and only the client reads its value.

``folders`` empty means "INBOX and the folder the server marks as Sent (SPECIAL-USE \\Sent)", which
is right for nearly every mailbox; naming folders replaces that default. ``mailbox_type``
tells personal mailboxes (the owner's mail) from shared ones (sales@, office@), where direction
is judged by the company's domains rather than one owner's address.

``live`` asks the engine to watch INBOX with IMAP IDLE between runs (NOOP polling on a server
without IDLE), so new mail is logged within seconds; the interval still runs the account now
and then, for Sent and anything the watch missed.

Validation errors hide the input (``hide_input_in_errors``), so a rejected password never comes
back inside the error text.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

Security = Literal["tls", "starttls", "plain"]

_HOST_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789.-_:[]")


class ImapConfig(BaseModel):
    """Connection and import settings of one IMAP mailbox."""

    # hide_input_in_errors: a rejected password must not come back inside the error message.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    host: str = Field(description="IMAP server name or address, e.g. imap.example.com")
    port: int = Field(993, description="993 for tls, 143 for starttls or plain")
    security: Security = Field("tls", description="tls (IMAPS), starttls, or plain (tests only)")
    username: str = Field(description="login name, often the e-mail address")
    password: SecretStr = Field(description="password or app password; stored encrypted")
    folders: list[str] = Field(
        default_factory=list, description="folders to import; empty means INBOX and the Sent folder"
    )
    since_date: date | None = Field(None, description="import mail from this day on; empty means all")
    batch_size: int = Field(
        1000,
        description="messages fetched and committed per batch (1-1000; a batch also stops at 32 MB of mail)",
    )
    match_by_domain: bool = Field(True, description="also link mail to a company by the address domain")
    private_folder: str = Field("Private", description="mail in this folder is never imported")
    private_flag: str = Field("$Private", description="mail with this keyword is never imported")
    attachment_cap_mb: int = Field(10, description="attachments above this size keep only their name")
    mailbox_type: Literal["personal", "shared"] = Field("personal", description="personal or shared")
    live: bool = Field(False, description="watch INBOX with IMAP IDLE, so new mail is logged within seconds")
    suggest_contacts: bool = Field(
        False, description="queue the addresses of mail that matched no client as suggested contacts"
    )
    max_message_mb: int = Field(50, description="larger messages are logged from their headers only (1-1024 MB)")

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        value = value.strip().lower().rstrip(".")
        if value and not value.isascii():
            try:
                value = value.encode("idna").decode("ascii")
            except UnicodeError:
                raise ValueError("the server name is not a valid international domain name") from None
        if not value:
            raise ValueError("the server name is empty")
        if "://" in value or "/" in value:
            raise ValueError("give the server name only, without imap:// or a path")
        if not set(value) <= _HOST_CHARS:
            raise ValueError("the server name may contain only letters, digits, dots and dashes")
        return value

    @field_validator("port")
    @classmethod
    def _port(cls, value: int) -> int:
        if not 1 <= value <= 65535:
            raise ValueError("the port must be between 1 and 65535")
        return value

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("the login name is empty")
        if any(c in value for c in "\r\n\x00"):
            raise ValueError("the login name may not contain line breaks")
        return value

    @field_validator("password")
    @classmethod
    def _password(cls, value: SecretStr) -> SecretStr:
        secret = value.get_secret_value()
        if not secret:
            raise ValueError("the password is empty")
        if any(c in secret for c in "\r\n\x00"):
            raise ValueError("the password may not contain line breaks")
        return value

    @field_validator("folders")
    @classmethod
    def _folders(cls, value: list[str]) -> list[str]:
        out: list[str] = []
        for name in value:
            name = name.strip()
            if not name:
                raise ValueError("a folder name is empty")
            if any(c in name for c in "\r\n\x00*%"):
                raise ValueError(f"the folder name {name!r} contains a line break or a wildcard (* or %)")
            if name not in out:
                out.append(name)
        return out

    @field_validator("batch_size")
    @classmethod
    def _batch_size(cls, value: int) -> int:
        if not 1 <= value <= 1000:
            raise ValueError("the batch size must be between 1 and 1000 messages")
        return value

    @field_validator("private_folder")
    @classmethod
    def _private_folder(cls, value: str) -> str:
        value = value.strip()
        if any(c in value for c in "\r\n\x00"):
            raise ValueError("the private folder name may not contain line breaks")
        return value

    @field_validator("private_flag")
    @classmethod
    def _private_flag(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("the private keyword is empty")
        if value.startswith("\\"):
            raise ValueError("the private keyword must be a keyword such as $Private, not a system flag")
        bad = set(' (){%*"\\]') | {chr(c) for c in range(32)} | {chr(127)}
        if any(c in bad for c in value) or not value.isascii():
            raise ValueError("the private keyword may use ASCII letters, digits, $ and - only, no spaces")
        return value

    @field_validator("attachment_cap_mb")
    @classmethod
    def _attachment_cap(cls, value: int) -> int:
        if not 0 <= value <= 1024:
            raise ValueError("the attachment size cap must be between 0 and 1024 MB")
        return value

    @field_validator("max_message_mb")
    @classmethod
    def _max_message(cls, value: int) -> int:
        if not 1 <= value <= 1024:
            raise ValueError("the message size limit must be between 1 and 1024 MB")
        return value

    @model_validator(mode="after")
    def _port_matches_security(self) -> ImapConfig:
        if self.security == "tls" and self.port == 143:
            raise ValueError("port 143 is for starttls or plain; tls (IMAPS) uses port 993")
        if self.security in ("starttls", "plain") and self.port == 993:
            raise ValueError("port 993 is for tls (IMAPS); starttls and plain use port 143")
        return self

    @property
    def attachment_cap(self) -> int:
        """The attachment cap in bytes."""
        return self.attachment_cap_mb * 1024 * 1024

    @property
    def max_message(self) -> int:
        """The size above which only a message's headers are read, in bytes."""
        return self.max_message_mb * 1024 * 1024
