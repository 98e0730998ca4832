"""Errors raised by core services; the hub turns each into a 4xx with the same words.

Every error names what went wrong in a sentence a user can act on; ``field`` says which
input was wrong, ``existing`` points at the record a duplicate collided with.
"""

from __future__ import annotations

from dataclasses import dataclass


class CoreError(Exception):
    """Base of every error a core service raises on purpose."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(CoreError):
    """The record does not exist, or the actor may not know that it does."""

    code = "not_found"


class Forbidden(CoreError):
    """The actor sees the record but may not do this to it."""

    code = "forbidden"


@dataclass(frozen=True)
class FieldProblem:
    """One field that was wrong, and why."""

    field: str
    message: str


class ValidationFailed(CoreError):
    """The input was wrong; ``problems`` names each field and the reason."""

    code = "invalid"

    def __init__(self, problems: list[FieldProblem] | FieldProblem) -> None:
        self.problems = problems if isinstance(problems, list) else [problems]
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in self.problems))

    @classmethod
    def one(cls, field: str, message: str) -> ValidationFailed:
        """A failure of a single field."""
        return cls(FieldProblem(field, message))


@dataclass(frozen=True)
class ExistingRecord:
    """The record a new one would duplicate."""

    type: str
    id: int
    name: str
    matched_on: str


class DuplicateError(CoreError):
    """Saving would create a second copy of an existing client."""

    code = "duplicate"

    def __init__(self, existing: ExistingRecord) -> None:
        self.existing = existing
        super().__init__(
            f"A {existing.type} with the same {existing.matched_on} already exists: {existing.name} (#{existing.id})"
        )


class Conflict(CoreError):
    """The change collides with the current state (a stale edit, a name taken)."""

    code = "conflict"


class Blocked(CoreError):
    """The counterparty is on the blocklist."""

    code = "blocked"
