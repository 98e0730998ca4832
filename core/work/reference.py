"""Interaction kinds and results: looked up by code or id, and edited by admins.

Both are reference data shared by every team. They are never deleted, only deactivated:
old interactions keep pointing at them, while new ones may not use an inactive kind or result.
A result may name the stage it moves a client or deal to, whether it is a refusal (then a
reason is required) and whether it ends the work (then no next contact is expected).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.errors import Conflict, NotFound, ValidationFailed
from core.models import Direction, InteractionKind, InteractionResult, Stage, User
from core.rights import require_role

CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
KIND_FIELDS = ("code", "name", "name_ru", "direction", "color", "is_active")
RESULT_FIELDS = ("code", "name", "name_ru", "stage_id", "is_refusal", "ends_work", "is_active")


def _is_id(value: str | int) -> bool:
    return isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit())


def _by_code_or_id(session: Session, model: Any, value: str | int, field: str, what: str) -> Any:
    if _is_id(value):
        row = session.get(model, int(value))
    else:
        row = session.scalars(select(model).where(model.code == str(value).strip())).first()
    return _found(row, value, field, what)


def _found(row: Any, value: str | int, field: str, what: str) -> Any:
    """The row looked up for ``value``, or ValidationFailed saying there is none."""
    if row is None:
        raise ValidationFailed.one(field, f"there is no {what} '{value}'")
    return row


def resolve_kind(session: Session, value: str | int, *, field: str = "kind") -> InteractionKind:
    """The active interaction kind with this code or id, or ValidationFailed naming the field."""
    return _active_kind(_by_code_or_id(session, InteractionKind, value, field, "interaction kind"), field)


def resolve_kinds(
    session: Session, values: Iterable[str | int], *, field: str = "kind"
) -> dict[str | int, InteractionKind]:
    """Each value's active interaction kind, as ``resolve_kind`` finds it, looked up in one query."""
    wanted = list(dict.fromkeys(values))
    ids = [int(v) for v in wanted if _is_id(v)]
    codes = [str(v).strip() for v in wanted if not _is_id(v)]
    rows = session.scalars(select(InteractionKind).where(InteractionKind.id.in_(ids) | InteractionKind.code.in_(codes)))
    by_id = {row.id: row for row in rows}
    by_code = {row.code: row for row in by_id.values()}
    found: dict[str | int, InteractionKind] = {}
    for value in wanted:
        kind = by_id.get(int(value)) if _is_id(value) else by_code.get(str(value).strip())
        found[value] = _active_kind(_found(kind, value, field, "interaction kind"), field)
    return found


def _active_kind(kind: InteractionKind, field: str) -> InteractionKind:
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


Entry = InteractionKind | InteractionResult
ENTITY = {InteractionKind: "interaction_kind", InteractionResult: "interaction_result"}
FIELDS = {InteractionKind: KIND_FIELDS, InteractionResult: RESULT_FIELDS}


def _list(session: Session, model: type[Entry], include_inactive: bool) -> list[Any]:
    stmt = select(model).order_by(model.id)
    if not include_inactive:
        stmt = stmt.where(model.is_active.is_(True))
    return list(session.scalars(stmt))


def _create(session: Session, actor: Actor, model: type[Entry], values: dict[str, Any]) -> Any:
    require_role(actor)
    data = {k: v for k, v in values.items() if k in FIELDS[model]}
    _check(session, data)
    _code_free(session, model, data["code"])
    entry = model(**data)
    session.add(entry)
    session.flush()
    entity = ENTITY[model]
    audit.record(session, actor=actor, action="create", entity_type=entity, entity_id=entry.id, summary=entry.code)
    return entry


def _update(session: Session, actor: Actor, model: type[Entry], entry_id: int, changes: dict[str, Any]) -> Any:
    require_role(actor)
    entry = session.get(model, entry_id)
    if entry is None:
        raise NotFound(f"{ENTITY[model].replace('_', ' ').capitalize()} not found")
    fields = FIELDS[model]
    changes = {k: v for k, v in changes.items() if k in fields}
    _check(session, changes)
    if "code" in changes:
        _code_free(session, model, changes["code"], exclude=entry.id)
    before = {f: getattr(entry, f) for f in fields}
    for key, value in changes.items():
        setattr(entry, key, value)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="update",
        entity_type=ENTITY[model],
        entity_id=entry.id,
        summary=entry.code,
        changes=audit.diff(before, {f: getattr(entry, f) for f in fields}),
    )
    return entry


def list_kinds(session: Session, *, actor: Actor, include_inactive: bool = False) -> list[InteractionKind]:
    """The interaction kinds (active ones unless asked), by id."""
    return _list(session, InteractionKind, include_inactive)


def create_kind(session: Session, *, actor: Actor, code: str, name: str, **values: Any) -> InteractionKind:
    """Add an interaction kind; admins only, audited."""
    return _create(session, actor, InteractionKind, {"code": code, "name": name, **values})


def update_kind(session: Session, *, actor: Actor, kind_id: int, changes: dict[str, Any]) -> InteractionKind:
    """Change an interaction kind (deactivate with ``is_active=False``); admins only, audited."""
    return _update(session, actor, InteractionKind, kind_id, changes)


def list_results(session: Session, *, actor: Actor, include_inactive: bool = False) -> list[InteractionResult]:
    """The interaction results (active ones unless asked), by id."""
    return _list(session, InteractionResult, include_inactive)


def create_result(session: Session, *, actor: Actor, code: str, name: str, **values: Any) -> InteractionResult:
    """Add an interaction result; admins only, audited."""
    return _create(session, actor, InteractionResult, {"code": code, "name": name, **values})


def update_result(session: Session, *, actor: Actor, result_id: int, changes: dict[str, Any]) -> InteractionResult:
    """Change an interaction result (deactivate with ``is_active=False``); admins only, audited."""
    return _update(session, actor, InteractionResult, result_id, changes)


def deactivate_kind(session: Session, *, actor: Actor, kind_id: int) -> InteractionKind:
    """Hide a kind from new interactions (old ones keep it); admins only, audited."""
    return update_kind(session, actor=actor, kind_id=kind_id, changes={"is_active": False})


def deactivate_result(session: Session, *, actor: Actor, result_id: int) -> InteractionResult:
    """Hide a result from new interactions (old ones keep it); admins only, audited."""
    return update_result(session, actor=actor, result_id=result_id, changes={"is_active": False})


def kind_names(session: Session, user_id: int | None) -> dict[str, str]:
    """Names of the interaction kinds by code, in the user's language (cached for the session)."""
    user = session.get(User, user_id) if user_id is not None else None
    locale = "ru" if user is not None and user.locale == "ru" else "en"
    # kept for the session (one request, or one import batch): only proposal titles use it
    cache = session.info.setdefault("crmhub.kind_names", {})
    if locale not in cache:
        kinds = session.scalars(select(InteractionKind))
        cache[locale] = {k.code: (k.name_ru if locale == "ru" and k.name_ru else k.name) for k in kinds}
    return cache[locale]
