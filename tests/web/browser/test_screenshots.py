"""Screenshots of every page of the client UI at desktop and phone width, in both languages.

They land in test-artifacts/screenshots/ for people to look at; the test itself checks that
each page rendered without an error page and without console errors (a CSP violation shows
up there).
"""

from __future__ import annotations

import pytest

from tests.web.browser.conftest import DESKTOP, PHONE, shot

pytestmark = pytest.mark.browser


def pages(server) -> list[tuple[str, str]]:  # noqa: ANN001
    """(name, path) of the pages to photograph."""
    d = server.demo
    org, person = d.orgs["romashka"], d.persons["anna"]
    return [
        ("organizations", "/organizations"),
        ("organizations-filtered", "/organizations?q=zzz-nothing"),
        ("organization-card", f"/organizations/{org}"),
        ("organization-persons", f"/organizations/{org}?tab=persons"),
        ("organization-interactions", f"/organizations/{org}?tab=interactions"),
        ("organization-tasks", f"/organizations/{org}?tab=tasks"),
        ("organization-deals", f"/organizations/{org}?tab=deals"),
        ("organization-files", f"/organizations/{org}?tab=files"),
        ("organization-comments", f"/organizations/{org}?tab=comments"),
        ("organization-history", f"/organizations/{org}?tab=history"),
        ("organization-empty-card", f"/organizations/{d.orgs['lutik']}?tab=interactions"),
        ("organization-new", "/organizations/new"),
        ("organization-edit", f"/organizations/{org}/edit"),
        ("persons", "/persons"),
        ("person-card", f"/persons/{person}"),
        ("person-organizations", f"/persons/{person}?tab=organizations"),
        ("person-new", f"/persons/new?org={org}"),
        ("search", "/search?q=ромашка"),
        ("me", "/me"),
        ("admin-users", "/admin/users"),
        ("admin-user-edit", f"/admin/users/{d.users['a']}"),
        ("admin-teams", "/admin/teams"),
        ("admin-fields", "/admin/fields"),
        ("admin-pipelines", "/admin/pipelines"),
        ("admin-blocklist", "/admin/blocklist"),
        ("admin-audit", "/admin/audit"),
        ("sync", "/sync"),
        ("sync-imap-new", "/sync/imap/new"),
        ("my-day", "/my-day"),
        ("my-day-team", f"/my-day?who=team:{d.teams['A']}"),
        ("calendar-week", f"/calendar?who=team:{d.teams['A']}"),
        ("calendar-month", f"/calendar?view=month&who=team:{d.teams['A']}"),
        ("calendar-day", f"/calendar?view=day&who=team:{d.teams['A']}"),
        ("pipeline", "/pipeline"),
        ("log-contact", f"/organizations/{org}/log"),
        ("merge-pick", f"/organizations/{org}/merge?q=Лютик"),
        ("merge-compare", f"/organizations/{org}/merge?other={d.orgs['lutik']}"),
        ("not-found", "/organizations/999999"),
    ]


@pytest.mark.parametrize("locale", ["en", "ru"])
@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_every_page_renders_and_is_photographed(new_page, server, locale, width):  # noqa: ANN001
    viewport = DESKTOP if width == "desktop" else PHONE
    anonymous = new_page(viewport=viewport, locale=locale)
    anonymous.goto("/login")
    shot(anonymous, f"{width}-{locale}-login")
    page = new_page(viewport=viewport, locale=locale, user="admin@ourcompany.test")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    for name, path in pages(server):
        page.goto(path)
        page.wait_for_load_state("load")
        shot(page, f"{width}-{locale}-{name}")
        if name != "not-found":
            assert page.locator(".error-page").count() == 0, name
    if width == "phone":
        page.goto("/organizations")
        page.click("[data-toggle-nav]")
        page.wait_for_timeout(250)
        shot(page, f"{width}-{locale}-menu-open")
    unexpected = [e for e in errors if "404" not in e]
    assert unexpected == []
