"""Form helpers: reading submitted values with per-field errors, and core errors mapped to fields.

A view reads a POST with typed getters; each bad value records a message under its field
name, and ``form.absorb(exc)`` puts the problems of a core ``ValidationFailed`` under the
fields they name (``emails[1]`` is the second e-mail input). Templates draw fields with the
macros of ``templates/_forms.html``, which show the value sent back and the error under the
input. A form is re-rendered with status 422 so nothing typed is lost::

    form = Form(await_form_data, page.i18n)
    name = form.text("name", required=True)
    if form.ok:
        try:
            create_thing(page.session, actor=page.actor, name=name)
        except ValidationFailed as exc:
            page.session.rollback()
            form.absorb(exc)
    if not form.ok:
        return page.render("things/form.html", form=form, status=422)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.datastructures import FormData

from core.errors import ValidationFailed
from hub.web.i18n import I18n
from hub.web.messages import translate

_INDEXED = re.compile(r"^(?P<name>[\w.]+)\[(?P<index>\d+)\](?:\.(?P<sub>\w+))?$")


class Form:
    """Values a user submitted (or the initial values of an edit form) and the errors per field."""

    def __init__(self, data: FormData | Mapping[str, Any] | None, i18n: I18n) -> None:
        self.i18n = i18n
        self._data = data or {}
        self.values: dict[str, Any] = {}
        self.errors: dict[str, str] = {}
        self.summary: list[str] = []
        """Errors that belong to no field (shown above the form)."""
        self.duplicate: Any = None
        """The existing record a new one would duplicate, when the core refused it."""

    @classmethod
    def initial(cls, i18n: I18n, **values: Any) -> Form:
        """A form filled with a record's current values."""
        form = cls(None, i18n)
        form.values.update(values)
        return form

    def _get(self, name: str) -> str:
        value = self._data.get(name, "")
        return value.strip() if isinstance(value, str) else ""

    def _getlist(self, name: str) -> list[str]:
        data = self._data
        if isinstance(data, FormData):
            raw = data.getlist(name)
        else:
            value = data.get(name, [])
            raw = value if isinstance(value, list) else [value]
        return [v.strip() for v in raw if isinstance(v, str)]

    def error(self, field: str, message: str) -> None:
        """Record an error under a field (the first one wins)."""
        self.errors.setdefault(field, message)

    @property
    def ok(self) -> bool:
        """True when nothing was wrong."""
        return not self.errors and not self.summary and self.duplicate is None

    def text(self, name: str, *, required: bool = False, max_length: int = 1000) -> str:
        """A text field, trimmed."""
        value = self._get(name)
        self.values[name] = value
        if required and not value:
            self.error(name, self.i18n.gettext("Fill this in."))
        elif len(value) > max_length:
            self.error(name, self.i18n.gettext("Too long: at most %(n)s characters.", n=max_length))
        return value

    def texts(self, name: str, *, max_items: int = 20) -> list[str]:
        """A repeated text field (several inputs with one name), blanks kept so indexes match inputs."""
        values = self._getlist(name)[:max_items]
        self.values[name] = values
        return values

    def integer(self, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int | None:
        """A whole number, or None when empty."""
        raw = self._get(name)
        self.values[name] = raw
        if not raw:
            return None
        try:
            value = int(raw)
        except ValueError:
            self.error(name, self.i18n.gettext("Enter a whole number."))
            return None
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            self.error(name, self.i18n.gettext("Must be from %(lo)s to %(hi)s.", lo=minimum, hi=maximum))
            return None
        return value

    def integers(self, name: str) -> list[int]:
        """The chosen values of a multiple select or of checkboxes (ids)."""
        values = [int(v) for v in self._getlist(name) if v.isdigit()]
        self.values[name] = values
        return values

    def decimal(self, name: str) -> Decimal | None:
        """An amount (spaces and a decimal comma allowed), or None when empty."""
        raw = self._get(name)
        self.values[name] = raw
        if not raw:
            return None
        try:
            value = Decimal(raw.replace("\u00a0", "").replace(" ", "").replace(",", "."))
        except InvalidOperation:
            self.error(name, self.i18n.gettext("Enter an amount, for example 150000.50."))
            return None
        if not value.is_finite() or abs(value) >= Decimal("1e14"):
            self.error(name, self.i18n.gettext("Enter an amount, for example 150000.50."))
            return None
        return value.quantize(Decimal("0.01"))

    def date(self, name: str) -> date | None:
        """A date from a date input (YYYY-MM-DD), or None when empty."""
        raw = self._get(name)
        self.values[name] = raw
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            self.error(name, self.i18n.gettext("Enter a date."))
            return None

    def checked(self, name: str) -> bool:
        """True when a checkbox was ticked."""
        value = bool(self._get(name))
        self.values[name] = value
        return value

    def value(self, name: str, default: Any = "") -> Any:
        """The value to show in an input."""
        value = self.values.get(name, default)
        return default if value is None else value

    def field_error(self, name: str) -> str:
        """The error to show under an input."""
        return self.errors.get(name, "")

    def absorb(self, exc: ValidationFailed, aliases: Mapping[str, str] | None = None) -> None:
        """Put the problems of a core validation error under the fields they name."""
        aliases = aliases or {}
        for problem in exc.problems:
            field = problem.field
            match = _INDEXED.match(field)
            if match and match.group("name") in aliases:
                field = f"{aliases[match.group('name')]}[{match.group('index')}]"
            mapped = field in aliases
            field = aliases.get(field, field)
            message = translate(problem.message, self.i18n)
            if mapped or field in self.values or _INDEXED.match(field) or field.startswith("custom."):
                self.error(field, message)
            else:
                self.summary.append(message)


async def _form_data(request: Request) -> FormData:
    return await request.form()


Submitted = Annotated[FormData, Depends(_form_data)]
"""The submitted form fields (parsed once; the CSRF check has read them already)."""
