"""Password hashing with Argon2id (pwdlib) and the rules a new password must meet.

The parameters are OWASP's recommendation for Argon2id (19 MiB of memory, two passes, one
lane): strong against guessing on GPUs, yet a login stays fast on a small two-core server.
Hashes made with other parameters still verify, since they carry their own parameters.
"""

from __future__ import annotations

import functools

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from core.errors import ValidationFailed

_hasher = PasswordHash((Argon2Hasher(time_cost=2, memory_cost=19456, parallelism=1),))
MIN_LENGTH = 10


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    """Hash a password for storage."""
    return _hasher.hash(password)


def verify_password(password: str, hashed: str | None) -> bool:
    """True when the password matches; takes the same time when there is no hash."""
    if not hashed:
        _hasher.verify(password, _dummy_hash())
        return False
    try:
        return _hasher.verify(password, hashed)
    except Exception:  # noqa: BLE001 - a malformed stored hash is a failed login, not a crash
        return False


def check_new_password(password: str, *, field: str = "password") -> None:
    """Raise ValidationFailed when a new password is too weak."""
    if len(password) < MIN_LENGTH:
        raise ValidationFailed.one(field, f"must be at least {MIN_LENGTH} characters long")
    if password.strip() != password or len(set(password)) < 4:
        raise ValidationFailed.one(field, "is too simple")
