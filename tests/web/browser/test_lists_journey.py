"""A marketer-minded salesperson in a real browser: tick clients into a group, save a filter as a segment."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.web.browser.conftest import shot

pytestmark = pytest.mark.browser


def test_tick_clients_into_a_new_group_and_save_the_filter_as_a_segment(new_page, server):
    page = new_page(user="ivan@ourcompany.test")
    page.goto("/organizations")
    page.locator("[data-select-all]").check()
    ticked = page.locator('input[name="ids"]:checked')
    expect(ticked).to_have_count(page.locator('input[name="ids"]').count())
    page.get_by_text("Add ticked to a group").click()
    page.get_by_placeholder("Group name").fill("Выставка «Связь»")
    shot(page, "desktop-en-add-to-group")
    page.get_by_role("button", name="Add to group").click()
    expect(page.locator(".flash-success")).to_contain_text("added to “Выставка «Связь»”")

    page.locator("#list-q").fill("ромашка")
    page.wait_for_url(re.compile(r"q=%D1%80%D0%BE%D0%BC"))
    page.get_by_text("Save as segment").click()
    page.get_by_label("Segment name").fill("Ромашки")
    page.get_by_label("Segment name").press("Enter")
    expect(page.locator(".flash-success")).to_contain_text("Segment “Ромашки” saved")
    page.goto("/organizations")
    page.get_by_text("Segments", exact=True).click()
    page.get_by_role("link", name="Ромашки").click()
    expect(page.locator("#list-q")).to_have_value("ромашка")
    expect(page.locator("#results")).to_contain_text("ООО «Ромашка»")
