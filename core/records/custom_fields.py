"""Administration of custom fields: admins define the extra fields of organizations and persons.

``core.clients.fields`` validates the values users give; this module keeps the definitions.
A field's key and type are fixed once created (values already stored were checked against
them); its labels, choices, order and whether it is required may change. Deactivating a field hides
it from forms and cards and keeps its values (activating it again shows them). Deleting a field
also removes its values from every client, so a later field with the same key starts clean.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.clients.fields import definitions
from core.errors import Conflict, NotFound, ValidationFailed
from core.models import CustomField, FieldType, Organization, Person
from core.rights import require_role

ENTITIES = {"organization": Organization, "person": Person}
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
EDITABLE = ("label", "label_ru", "choices", "required", "position", "active")


def _entity(value: str) -> str:
    if value not in ENTITIES:
        raise ValidationFailed.one("entity", "must be 'organization' or 'person'")
    return value


def _type(value: Any) -> FieldType:
    try:
        return FieldType(value)
    except ValueError:
        raise ValidationFailed.one("type", f"must be one of: {', '.join(t.value for t in FieldType)}") from None


def _label(value: Any, field: str, *, required: bool) -> str:
    text = " ".join(str(value or "").split())
    if required and not text:
        raise ValidationFailed.one(field, "is required")
    if len(text) > 200:
        raise ValidationFailed.one(field, "must be at most 200 characters")
    return text


def _choices(field_type: FieldType, choices: Any) -> list[str]:
    if choices is None:
        choices = []
    if not isinstance(choices, list):
        raise ValidationFailed.one("choices", "must be a list of texts")
    out: list[str] = []
    for c in choices:
        text = " ".join(str(c).split())
        if text and text not in out:
            out.append(text[:200])
    if field_type == FieldType.choice and not out:
        raise ValidationFailed.one("choices", "give at least one choice for a choice field")
    if field_type != FieldType.choice and out:
        raise ValidationFailed.one("choices", "only choice fields have choices")
    return out


def _view(f: CustomField) -> dict[str, Any]:
    return {
        k: getattr(f, k)
        for k in ("entity", "key", "type", "label", "label_ru", "choices", "required", "position", "active")
    }


def list_fields(session: Session, *, actor: Actor, entity: str | None = None) -> list[CustomField]:
    """The custom field definitions (everyone may read them: forms need them)."""
    if entity is not None:
        return definitions(session, _entity(entity))
    return list(session.scalars(select(CustomField).order_by(CustomField.entity, CustomField.position, CustomField.id)))


def create_field(
    session: Session,
    *,
    actor: Actor,
    entity: str,
    key: str,
    label: str,
    type: FieldType | str,
    label_ru: str = "",
    choices: list[str] | None = None,
    required: bool = False,
    position: int = 0,
) -> CustomField:
    """Define a new custom field (admins); audited."""
    require_role(actor)
    entity = _entity(entity)
    key = (key or "").strip()
    if not KEY_RE.match(key):
        raise ValidationFailed.one("key", "use 1-60 lower-case latin letters, digits and _, starting with a letter")
    field_type = _type(type)
    exists_ = session.scalar(select(CustomField.id).where(CustomField.entity == entity, CustomField.key == key))
    if exists_ is not None:
        raise Conflict(f"The {entity} field '{key}' already exists (#{exists_})")
    field = CustomField(
        entity=entity,
        key=key,
        label=_label(label, "label", required=True),
        label_ru=_label(label_ru, "label_ru", required=False),
        type=field_type,
        choices=_choices(field_type, choices),
        required=bool(required),
        position=int(position),
    )
    session.add(field)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity_type="custom_field",
        entity_id=field.id,
        summary=f"{entity}.{key}",
        changes=audit.diff({}, _view(field)),
    )
    return field


def _get(session: Session, field_id: int) -> CustomField:
    field = session.get(CustomField, field_id)
    if field is None:
        raise NotFound("Custom field not found")
    return field


def update_field(session: Session, *, actor: Actor, field_id: int, changes: dict[str, Any]) -> CustomField:
    """Change a field's labels, choices, order, required flag or whether it is active (admins); audited."""
    require_role(actor)
    field = _get(session, field_id)
    fixed = {"entity", "key", "type"} & set(changes)
    for name in sorted(fixed):
        if changes[name] != getattr(field, name):
            raise ValidationFailed.one(name, "cannot change once the field exists; delete it and create a new one")
    before = _view(field)
    if "label" in changes:
        field.label = _label(changes["label"], "label", required=True)
    if "label_ru" in changes:
        field.label_ru = _label(changes["label_ru"], "label_ru", required=False)
    if "choices" in changes:
        field.choices = _choices(FieldType(field.type), changes["choices"])
    if "required" in changes:
        field.required = bool(changes["required"])
    if "position" in changes:
        field.position = int(changes["position"])
    if "active" in changes:
        field.active = bool(changes["active"])
    delta = audit.diff(before, _view(field))
    audit.record_update(
        session,
        actor=actor,
        entity_type="custom_field",
        entity_id=field.id,
        summary=f"{field.entity}.{field.key}",
        changes=delta,
    )
    session.flush()
    return field


def delete_field(session: Session, *, actor: Actor, field_id: int) -> int:
    """Delete a field and its values on every client (admins); returns how many clients lost a value."""
    require_role(actor)
    field = _get(session, field_id)
    model: Any = ENTITIES[field.entity]
    cleared = 0
    for record in session.scalars(select(model).execution_options(yield_per=500)):
        if field.key in (record.custom or {}):
            record.custom = {k: v for k, v in record.custom.items() if k != field.key}
            cleared += 1
    audit.record(
        session,
        actor=actor,
        action="delete",
        entity_type="custom_field",
        entity_id=field.id,
        summary=f"{field.entity}.{field.key}",
        changes={"values_cleared": cleared},
    )
    session.delete(field)
    session.flush()
    return cleared
