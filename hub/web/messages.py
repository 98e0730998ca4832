"""Core's error sentences, in the user's language.

Core services explain errors in English sentences (the API returns them as they are). The web
UI recognises the sentences core is known to produce and shows their translation with the
same details; a sentence not listed here is shown as core wrote it.
"""

from __future__ import annotations

import re

from core.normalize import format_phone
from hub.web.i18n import I18n
from hub.web.nav import N_

_KIND_NAMES = {"email": N_("e-mail"), "domain": N_("domain"), "phone": N_("phone"), "name": N_("name")}

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), t)
    for p, t in (
        (r"is required", N_("Fill this in.")),
        (r"is empty", N_("Fill this in.")),
        (r"must be one of: (?P<choices>.+)", N_("Choose one of: %(choices)s.")),
        (r"must be from (?P<lo>\d+) to (?P<hi>\d+)", N_("Must be from %(lo)s to %(hi)s.")),
        (r"cannot be negative", N_("Cannot be negative.")),
        (r"cannot be in the future", N_("Cannot be in the future.")),
        (r"there is no stage #\d+", N_("This stage no longer exists; choose another.")),
        (r"there is no active user #\d+", N_("This user is no longer active; choose another.")),
        (r"create a team first", N_("Create a team first (Admin → Teams).")),
        (r"choose the team \(direction\) this client belongs to", N_("Choose the team this client belongs to.")),
        (r"there is no team #\d+", N_("This team no longer exists; choose another.")),
        (r"'(?P<value>.*)' is not a phone number.*", N_("“%(value)s” is not a phone number.")),
        (
            r"'(?P<value>.*)' is not a possible phone number",
            N_("“%(value)s” cannot be a phone number: check the digits and the country code."),
        ),
        (r"'(?P<value>.*)' is not a valid e-mail address.*", N_("“%(value)s” is not a valid e-mail address.")),
        (r"'(?P<value>.*)' is not a domain", N_("“%(value)s” is not a domain (example: company.com).")),
        (r"must contain letters or digits", N_("Must contain letters or digits.")),
        (r"give at least a first or a last name", N_("Give at least a first or a last name.")),
        (r"there is no organization #\d+", N_("No such organization among those you can see.")),
        (r"is not a field defined by the admin", N_("This field is not defined any more.")),
        (r"must be a number", N_("Enter a number.")),
        (r"must be a date \(YYYY-MM-DD\)", N_("Enter a date.")),
        (r"must be at least (?P<n>\d+) characters long", N_("Use at least %(n)s characters.")),
        (r"is too simple", N_("Too simple: use more different characters.")),
        (r"you cannot deactivate yourself", N_("You cannot deactivate yourself.")),
        (r"no such team\(s\): .*", N_("One of the chosen teams no longer exists.")),
        (r"give the token a name \(what script uses it\)", N_("Give the token a name (what script uses it).")),
        (r"Your role \(\w+\) may not change .*", N_("Your role may only read clients; ask an admin to change it.")),
        (r"You can only create records in your own teams", N_("You can only add clients to your own teams.")),
        (r"You do not have the rights for this", N_("You do not have the rights for this.")),
        (
            r"This counterparty is on the blocklist by (?P<kind>\w+) '(?P<value>[^']*)'.*",
            N_("This counterparty is on the blocklist (%(kind)s “%(value)s”), so it cannot be added."),
        ),
        (r"A team named '(?P<name>.*)' already exists", N_("A team named “%(name)s” already exists.")),
        (r"A user with e-mail (?P<email>\S+) already exists", N_("A user with the e-mail %(email)s already exists.")),
        (r"Token not found", N_("This token does not exist any more.")),
        (
            r"A (?P<what>group|segment) named '(?P<name>.*)' already exists; choose another name",
            N_("The name “%(name)s” is taken; choose another."),
        ),
        (r"must be at most (?P<n>\d+) characters", N_("Use at most %(n)s characters.")),
        (r"Group not found", N_("This group does not exist any more.")),
        (r"Segment not found", N_("This segment does not exist any more.")),
    )
]


def translate(message: str, i18n: I18n) -> str:
    """The user's-language version of a sentence from core (unchanged when unknown)."""
    for pattern, template in _PATTERNS:
        match = pattern.fullmatch(message.strip())
        if match:
            values = {k: (v or "") for k, v in match.groupdict().items()}
            if "kind" in values:
                values["kind"] = i18n.gettext(_KIND_NAMES.get(values["kind"], values["kind"]))
            return i18n.gettext(template, **values)
    return message


def duplicate_match(matched_on: str, i18n: I18n) -> str:
    """What a duplicate matched on ("phone +7495...", "name"), in the user's language."""
    kind, _, value = matched_on.partition(" ")
    if kind == "phone":
        return i18n.gettext("phone %(value)s", value=format_phone(value))
    if kind == "email":
        return i18n.gettext("e-mail %(value)s", value=value)
    if matched_on == "brand":
        return i18n.gettext("brand")
    if matched_on == "name in the same organization":
        return i18n.gettext("name in the same organization")
    return i18n.gettext("name")


def duplicate_name(name: str, i18n: I18n) -> str:
    """The name of the existing record, or who holds it when the user may not see it."""
    if name == "a person of another team":
        return i18n.gettext("a contact person of another team")
    if name.startswith("a client of "):
        return i18n.gettext("a client of the team “%(team)s”", team=name.removeprefix("a client of "))
    return name
