"""Secrets at rest: connector passwords and tokens sealed with the admin's Fernet keys.

``settings.encryption_keys`` is a list of Fernet keys (``crmhub init`` writes one). The first
key encrypts; every key decrypts (``MultiFernet``), so a key can be rotated without a window
in which some secret cannot be read: ``crmhub keys rotate`` puts a new key in front, then
re-encrypts every sealed secret with it (``rotate_all``); old keys can be retired afterwards.

What is sealed is the JSON of a connector config's secret fields (``{"password": "..."}``);
the rest of the config is stored in the clear so an admin can read it. Nothing here ever
puts a secret or a key into an error message.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.config import get_settings
from core.errors import CoreError
from core.models import ConnectorAccount
from core.rights import require_role


class SecretsUnavailable(CoreError):
    """No usable encryption key, or a sealed secret that none of the keys opens."""

    code = "secrets_unavailable"


def _keys(keys: Sequence[SecretStr | str] | None) -> list[str]:
    chosen = get_settings().encryption_keys if keys is None else keys
    return [k.get_secret_value() if isinstance(k, SecretStr) else k for k in chosen if k]


def fernet(keys: Sequence[SecretStr | str] | None = None) -> MultiFernet:
    """The MultiFernet for these keys (default: the configured ones); the first key encrypts."""
    plain = _keys(keys)
    if not plain:
        raise SecretsUnavailable(
            "No encryption key is configured: run `crmhub init`, or set CRMHUB_ENCRYPTION_KEYS to a list of Fernet keys"
        )
    try:
        return MultiFernet([Fernet(k.encode()) for k in plain])
    except (ValueError, TypeError):
        raise SecretsUnavailable(
            "An encryption key in the settings is not a valid Fernet key (32 url-safe base64-encoded bytes)"
        ) from None


def generate_key() -> str:
    """A new random Fernet key."""
    return Fernet.generate_key().decode()


def seal(values: dict[str, str], *, keys: Sequence[SecretStr | str] | None = None) -> bytes:
    """Encrypt a dict of secret strings with the first key."""
    return fernet(keys).encrypt(json.dumps(values, sort_keys=True).encode())


def unseal(token: bytes | None, *, keys: Sequence[SecretStr | str] | None = None) -> dict[str, str]:
    """Decrypt what ``seal`` made (an empty dict for None); any configured key may open it."""
    if not token:
        return {}
    try:
        return json.loads(fernet(keys).decrypt(bytes(token)))
    except InvalidToken:
        raise SecretsUnavailable(
            "A stored secret cannot be decrypted with the configured keys: was a key removed from encryption_keys "
            "before `crmhub keys rotate` re-encrypted everything?"
        ) from None


def rotate_all(session: Session, *, actor: Actor, keys: Sequence[SecretStr | str] | None = None) -> int:
    """Re-encrypt every sealed secret with the first key; returns how many were re-encrypted; admins only."""
    require_role(actor)
    f = fernet(keys)
    count = 0
    for account in session.scalars(select(ConnectorAccount).where(ConnectorAccount.secrets_sealed.is_not(None))):
        try:
            account.secrets_sealed = f.rotate(bytes(account.secrets_sealed or b""))
        except InvalidToken:
            raise SecretsUnavailable(
                f"The secrets of account #{account.id} ({account.name}) cannot be decrypted with any configured key"
            ) from None
        count += 1
    audit.record(
        session,
        actor=actor,
        action="rotate_keys",
        entity_type="connector_account",
        entity_id=None,
        summary=f"re-encrypted the secrets of {count} account(s) with the newest key",
    )
    session.flush()
    return count
