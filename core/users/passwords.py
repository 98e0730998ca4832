"""Password hashing with Argon2 (pwdlib) and the rules a new password must meet."""

from __future__ import annotations

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from core.errors import ValidationFailed

_hasher = PasswordHash((Argon2Hasher(),))
_DUMMY = _hasher.hash("not-a-real-password")
MIN_LENGTH = 10


def hash_password(password: str) -> str:
    """Hash a password for storage."""
    return _hasher.hash(password)


def verify_password(password: str, hashed: str | None) -> bool:
    """True when the password matches; takes the same time when there is no hash."""
    if not hashed:
        _hasher.verify(password, _DUMMY)
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
