"""Custom fields of organizations and persons (admins only): list, add, rename, deactivate.

Through ``core.records.custom_fields``. A field's key and type are fixed once created; its
labels, choices and whether it is required may change. Deactivating hides the field from
forms and cards and keeps the values already stored, so activating it again brings them back
(deleting, which drops every value, is left to the API on purpose).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi.responses import Response

from core.errors import Conflict, NotFound, ValidationFailed
from core.models import CustomField, FieldType
from core.records import custom_fields
from hub.web import nav
from hub.web.admin import ADMINS, _core_failed
from hub.web.forms import Form, Submitted
from hub.web.nav import N_, NavItem
from hub.web.pages import AdminPage, LoggedInPage, web_router

router = web_router()
nav.add(
    NavItem("admin-fields", "/admin/fields", N_("Custom fields"), icon="edit", order=92, roles=ADMINS, section="admin")
)

ENTITY_LABELS = {"organization": N_("Organizations"), "person": N_("Contact persons")}
TYPE_LABELS = {
    FieldType.text: N_("Text"),
    FieldType.number: N_("Number"),
    FieldType.date: N_("Date"),
    FieldType.choice: N_("Choice from a list"),
}


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace("\r", "").split("\n") if line.strip()]


def _key_from(label: str) -> str:
    """A key made of the latin letters and digits of a label ("Contract no." -> "contract_no")."""
    key = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:60]
    return key if re.match(r"^[a-z]", key) else ""


def _options(page: LoggedInPage) -> dict[str, Any]:
    return {
        "entity_options": [(k, page._(v)) for k, v in ENTITY_LABELS.items()],
        "type_options": [(t.value, page._(v)) for t, v in TYPE_LABELS.items()],
        "entity_labels": ENTITY_LABELS,
        "type_labels": {t.value: v for t, v in TYPE_LABELS.items()},
    }


def _list_page(page: LoggedInPage, form: Form, status: int = 200) -> Response:
    fields = custom_fields.list_fields(page.session, actor=page.actor)
    groups = {entity: [f for f in fields if f.entity == entity] for entity in ENTITY_LABELS}
    return page.render("admin/fields.html", status=status, groups=groups, form=form, **_options(page))


@router.get("/admin/fields")
def fields(page: AdminPage) -> Response:
    """The custom fields of organizations and persons, and the form for a new one."""
    return _list_page(page, Form.initial(page.i18n, entity="organization", type="text"))


@router.post("/admin/fields")
def field_create(page: AdminPage, data: Submitted) -> Response:
    """Add a custom field."""
    form = Form(data, page.i18n)
    entity = form.text("entity")
    label = form.text("label", required=True, max_length=200)
    label_ru = form.text("label_ru", max_length=200)
    key = form.text("key", max_length=60) or _key_from(label)
    field_type = form.text("type")
    choices = _lines(form.text("choices", max_length=5000))
    required = form.checked("required")
    if not key and label:
        form.error("key", page._("Give a key of latin letters, digits and _ (e.g. contract_no)."))
    if form.ok:
        try:
            created = custom_fields.create_field(
                page.session,
                actor=page.actor,
                entity=entity,
                key=key,
                label=label,
                label_ru=label_ru,
                type=field_type,
                choices=choices if field_type == FieldType.choice else None,
                required=required,
                position=len(custom_fields.list_fields(page.session, actor=page.actor)),
            )
        except (ValidationFailed, Conflict) as exc:
            _core_failed(page, form, exc, "key")
        else:
            page.flash("success", page._("Field “%(label)s” added.", label=created.label))
            return page.redirect("/admin/fields")
    return _list_page(page, form, status=422)


def _field(page: LoggedInPage, field_id: int) -> CustomField:
    found = [f for f in custom_fields.list_fields(page.session, actor=page.actor) if f.id == field_id]
    if not found:
        raise NotFound("Custom field not found")
    return found[0]


def _edit_page(page: LoggedInPage, field: CustomField, form: Form, status: int = 200) -> Response:
    return page.render("admin/field_form.html", status=status, field=field, form=form, **_options(page))


@router.get("/admin/fields/{field_id}")
def field_edit(page: AdminPage, field_id: int) -> Response:
    """The form to rename a field, change its choices or deactivate it."""
    field = _field(page, field_id)
    form = Form.initial(
        page.i18n,
        label=field.label,
        label_ru=field.label_ru,
        choices="\n".join(str(c) for c in field.choices),
        required=field.required,
        active=field.active,
    )
    return _edit_page(page, field, form)


@router.post("/admin/fields/{field_id}")
def field_update(page: AdminPage, field_id: int, data: Submitted) -> Response:
    """Save a field's labels, choices, whether it is required and whether it is active."""
    field = _field(page, field_id)
    form = Form(data, page.i18n)
    changes: dict[str, Any] = {
        "label": form.text("label", required=True, max_length=200),
        "label_ru": form.text("label_ru", max_length=200),
        "required": form.checked("required"),
        "active": form.checked("active"),
    }
    if field.type == FieldType.choice:
        changes["choices"] = _lines(form.text("choices", max_length=5000))
    if form.ok:
        try:
            custom_fields.update_field(page.session, actor=page.actor, field_id=field.id, changes=changes)
        except ValidationFailed as exc:
            _core_failed(page, form, exc)
            field = _field(page, field_id)
        else:
            page.flash("success", page._("Changes saved."))
            return page.redirect("/admin/fields")
    return _edit_page(page, field, form, status=422)


@router.post("/admin/fields/{field_id}/active")
def field_toggle(page: AdminPage, field_id: int, data: Submitted) -> Response:
    """Deactivate a field (hidden from forms, values kept) or activate it again."""
    field = _field(page, field_id)
    active = data.get("active") == "1"
    custom_fields.update_field(page.session, actor=page.actor, field_id=field.id, changes={"active": active})
    message = (
        N_("Field “%(label)s” is active again.")
        if active
        else N_("Field “%(label)s” deactivated; its values are kept.")
    )
    page.flash("success", page._(message, label=field.label))
    return page.redirect("/admin/fields")
