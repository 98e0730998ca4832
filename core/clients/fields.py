"""Admin-defined custom fields: validating the values a user gives for them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import FieldProblem, ValidationFailed
from core.models import CustomField, FieldType


def definitions(session: Session, entity: str) -> list[CustomField]:
    """The active custom fields defined for ``organization`` or ``person``, in display order."""
    stmt = (
        select(CustomField)
        .where(CustomField.entity == entity, CustomField.active.is_(True))
        .order_by(CustomField.position, CustomField.id)
    )
    return list(session.scalars(stmt))


def _coerce(field: CustomField, value: Any) -> Any:
    if field.type == FieldType.text:
        return str(value)[:2000]
    if field.type == FieldType.number:
        try:
            number = Decimal(str(value).replace(",", ".").replace(" ", ""))
        except InvalidOperation:
            raise ValueError("must be a number") from None
        if not number.is_finite():
            raise ValueError("must be a number")
        return float(number) if number % 1 else int(number)
    if field.type == FieldType.date:
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ValueError("must be a date (YYYY-MM-DD)") from None
    if str(value) not in [str(c) for c in field.choices]:
        raise ValueError(f"must be one of: {', '.join(str(c) for c in field.choices)}")
    return str(value)


def validate_custom(
    session: Session, *, entity: str, values: dict[str, Any], current: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Merge ``values`` into ``current`` after checking each against its definition."""
    defs = {d.key: d for d in definitions(session, entity)}
    result = dict(current or {})
    problems: list[FieldProblem] = []
    for key, value in values.items():
        field = defs.get(key)
        if field is None:
            problems.append(FieldProblem(f"custom.{key}", "is not a field defined by the admin"))
            continue
        if value is None or value == "":
            result.pop(key, None)
            continue
        try:
            result[key] = _coerce(field, value)
        except ValueError as exc:
            problems.append(FieldProblem(f"custom.{key}", str(exc)))
    for key, field in defs.items():
        if field.required and key not in result:
            problems.append(FieldProblem(f"custom.{key}", "is required"))
    if problems:
        raise ValidationFailed(problems)
    return result
