"""Interaction kinds and results: looked up by code or id, and edited by admins.

Both are reference data shared by every team. They are never deleted, only deactivated:
old interactions keep pointing at them, while new ones may not use an inactive kind or result.
A result may name the stage it moves a client or deal to, whether it is a refusal (then a
reason is required) and whether it ends the work (then no next contact is expected).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.errors import Conflict, NotFound, ValidationFailed
from core.models import Direction, InteractionKind, InteractionResult, Stage
from core.rights import require_role

CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
KIND_FIELDS = ("code", "name", "name_ru", "direction", "color", "is_active")
RESULT_FIELDS = ("code", "name", "name_ru", "stage_id", "is_refusal", "ends_work", "is_active")


def _by_code_or_id(session: Session, model: Any, value: str | int, field: str, what: str) -> Any:
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        row = session.get(model, int(value))
    else:
        row = session.scalars(select(model).where(model.code == str(value).strip())).first()
    if row is None:
        raise ValidationFailed.one(field, f"there is no {what} '{value}'")
    return row


def resolve_kind(session: Session, value: str | int, *, field: str = "kind") -> InteractionKind:
    """The active interaction kind with this code or id, or ValidationFailed naming the field."""
    kind = _by_code_or_id(session, InteractionKind, value, field, "interaction kind")
    if not kind.is_active:
        raise ValidationFailed.one(field, f"the kind '{kind.code}' is deactivated")
    return kind


def resolve_result(session: Session, value: str | int | None, *, field: str = "result") -> InteractionResult | None:
    """The active result with this code or id (None for None), or ValidationFailed naming the field."""
    if value is None or value == "":
        return None
    result = _by_code_or_id(session, InteractionResult, value, field, "interaction result")
    if not result.is_active:
        raise ValidationFailed.one(field, f"the result '{result.code}' is deactivated")
    return result


def _check(session: Session, values: dict[str, Any]) -> None:
    if "code" in values and not CODE.match(str(values["code"] or "")):
        raise ValidationFailed.one("code", "use 1-40 lower-case letters, digits and _ (starting with a letter)")
    if "name" in values and not str(values["name"] or "").strip():
        raise ValidationFailed.one("name", "is required")
    if "direction" in values and values["direction"] not in tuple(Direction):
        raise ValidationFailed.one("direction", f"must be one of: {', '.join(Direction)}")
    if values.get("stage_id") is not None and session.get(Stage, values["stage_id"]) is None:
        raise ValidationFailed.one("stage_id", f"there is no stage #{values['stage_id']}")


def _code_free(session: Session, model: Any, code: str, exclude: int | None = None) -> None:
    stmt = select(model.id).where(model.code == code)
    if exclude is not None:
        stmt = stmt.where(model.id != exclude)
    if session.scalar(stmt) is not None:
        raise Conflict(f"The code '{code}' is already used; choose another")


def list_kinds(session: Session, *, actor: Actor, include_inactive: bool = False) -> list[InteractionKind]:
    """The interaction kinds (active ones unless asked), by id."""
    stmt = select(InteractionKind).order_by(InteractionKind.id)
    if not include_inactive:
        stmt = stmt.where(InteractionKind.is_active.is_(True))
    return list(session.scalars(stmt))


def create_kind(session: Session, *, actor: Actor, code: str, name: str, **values: Any) -> InteractionKind:
    """Add an interaction kind; admins only, audited."""
    require_role(actor)
    data = {k: v for k, v in {"code": code, "name": name, **values}.items() if k in KIND_FIELDS}
    _check(session, data)
    _code_free(session, InteractionKind, code)
    kind = InteractionKind(**data)
    session.add(kind)
    session.flush()
    audit.record(
        session, actor=actor, action="create", entity_type="interaction_kind", entity_id=kind.id, summary=kind.code
    )
    return kind


def update_kind(session: Session, *, actor: Actor, kind_id: int, changes: dict[str, Any]) -> InteractionKind:
    """Change an interaction kind (deactivate with ``is_active=False``); admins only, audited."""
    require_role(actor)
    kind = session.get(InteractionKind, kind_id)
    if kind is None:
        raise NotFound("Interaction kind not found")
    changes = {k: v for k, v in changes.items() if k in KIND_FIELDS}
    _check(session, changes)
    if "code" in changes:
        _code_free(session, InteractionKind, changes["code"], exclude=kind.id)
    before = {f: getattr(kind, f) for f in KIND_FIELDS}
    for key, value in changes.items():
        setattr(kind, key, value)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="update",
        entity_type="interaction_kind",
        entity_id=kind.id,
        summary=kind.code,
        changes=audit.diff(before, {f: getattr(kind, f) for f in KIND_FIELDS}),
    )
    return kind


def list_results(session: Session, *, actor: Actor, include_inactive: bool = False) -> list[InteractionResult]:
    """The interaction results (active ones unless asked), by id."""
    stmt = select(InteractionResult).order_by(InteractionResult.id)
    if not include_inactive:
        stmt = stmt.where(InteractionResult.is_active.is_(True))
    return list(session.scalars(stmt))


def create_result(session: Session, *, actor: Actor, code: str, name: str, **values: Any) -> InteractionResult:
    """Add an interaction result; admins only, audited."""
    require_role(actor)
    data = {k: v for k, v in {"code": code, "name": name, **values}.items() if k in RESULT_FIELDS}
    _check(session, data)
    _code_free(session, InteractionResult, code)
    result = InteractionResult(**data)
    session.add(result)
    session.flush()
    audit.record(
        session, actor=actor, action="create", entity_type="interaction_result", entity_id=result.id, summary=code
    )
    return result


def update_result(session: Session, *, actor: Actor, result_id: int, changes: dict[str, Any]) -> InteractionResult:
    """Change an interaction result (deactivate with ``is_active=False``); admins only, audited."""
    require_role(actor)
    result = session.get(InteractionResult, result_id)
    if result is None:
        raise NotFound("Interaction result not found")
    changes = {k: v for k, v in changes.items() if k in RESULT_FIELDS}
    _check(session, changes)
    if "code" in changes:
        _code_free(session, InteractionResult, changes["code"], exclude=result.id)
    before = {f: getattr(result, f) for f in RESULT_FIELDS}
    for key, value in changes.items():
        setattr(result, key, value)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="update",
        entity_type="interaction_result",
        entity_id=result.id,
        summary=result.code,
        changes=audit.diff(before, {f: getattr(result, f) for f in RESULT_FIELDS}),
    )
    return result


def deactivate_kind(session: Session, *, actor: Actor, kind_id: int) -> InteractionKind:
    """Hide a kind from new interactions (old ones keep it); admins only, audited."""
    return update_kind(session, actor=actor, kind_id=kind_id, changes={"is_active": False})


def deactivate_result(session: Session, *, actor: Actor, result_id: int) -> InteractionResult:
    """Hide a result from new interactions (old ones keep it); admins only, audited."""
    return update_result(session, actor=actor, result_id=result_id, changes={"is_active": False})
