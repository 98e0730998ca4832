"""The admin pages: custom fields, pipelines and stages, blocklist, audit log (admins only)."""

from __future__ import annotations

from sqlalchemy import select

from core.models import BlocklistEntry, CustomField, Deal, Pipeline, Stage

ADMIN_ONLY = ("/admin/fields", "/admin/pipelines", "/admin/blocklist", "/admin/audit")


def test_only_admins_reach_the_admin_pages(web, demo):
    ivan = web("ivan@ourcompany.test")
    for path in ADMIN_ONLY:
        r = ivan.get(path)
        assert r.status_code == 404 and "Page not found" in r.text, path
    assert ivan.post("/admin/blocklist", {"kind": "email", "value": "x@y.example"}).status_code == 404
    admin = web("admin@ourcompany.test")
    for path in ADMIN_ONLY:
        assert admin.get(path).status_code == 200, path
    menu = admin.get("/organizations").text
    assert all(f'href="{p}"' in menu for p in ADMIN_ONLY) and 'href="/sync"' in menu
    assert 'href="/admin/fields"' not in ivan.get("/organizations").text


def test_custom_field_add_rename_deactivate(web, db, demo):
    admin = web("admin@ourcompany.test")
    bad = admin.post("/admin/fields", {"entity": "organization", "label": "Отрасль", "type": "choice", "choices": ""})
    assert bad.status_code == 422 and "Give a key" in bad.text
    bad = admin.post(
        "/admin/fields", {"entity": "organization", "label": "Segment", "type": "choice", "choices": "", "key": ""}
    )
    assert bad.status_code == 422
    with db.session() as s:
        assert s.scalars(select(CustomField)).all() == []
    ok = admin.post(
        "/admin/fields",
        {
            "entity": "organization",
            "label": "Segment",
            "type": "choice",
            "choices": "SMB\nEnterprise\n",
            "required": "",
        },
    )
    assert ok.status_code == 303
    with db.session() as s:
        field = s.scalars(select(CustomField)).one()
        assert (field.key, field.choices, field.active) == ("segment", ["SMB", "Enterprise"], True)
    assert 'name="custom.segment"' in admin.get(f"/organizations/{demo.orgs['romashka']}/edit").text
    assert admin.post(f"/admin/fields/{field.id}", {"label": "", "active": "1"}).status_code == 422
    r = admin.post(
        f"/admin/fields/{field.id}", {"label": "Market segment", "choices": "SMB\nEnterprise", "active": "1"}
    )
    assert r.status_code == 303
    assert admin.post(f"/admin/fields/{field.id}/active", {"active": "0"}).status_code == 303
    with db.session() as s:
        field = s.get(CustomField, field.id)
        assert (field.label, field.active) == ("Market segment", False)
    assert 'name="custom.segment"' not in admin.get(f"/organizations/{demo.orgs['romashka']}/edit").text
    listing = admin.get("/admin/fields").text
    assert "Market segment" in listing and "deactivated" in listing


def test_pipeline_stages_add_rename_reorder_delete_and_validate(web, db, demo):
    admin = web("admin@ourcompany.test")
    with db.session() as s:
        pipeline = s.scalars(select(Pipeline).where(Pipeline.is_default.is_(True))).one()
        before = [st.id for st in pipeline.stages]
    page = admin.get("/admin/pipelines")
    assert page.status_code == 200 and pipeline.name in page.text
    for probability in ("101", "-1", "abc", ""):
        r = admin.post(f"/admin/pipelines/{pipeline.id}/stages", {"name": "Audit", "probability": probability})
        assert r.status_code == 422, probability
    with db.session() as s:
        assert len(s.scalars(select(Stage).where(Stage.pipeline_id == pipeline.id)).all()) == len(before)
    r = admin.post(f"/admin/pipelines/{pipeline.id}/stages", {"name": "Audit", "name_ru": "Аудит", "probability": "35"})
    assert r.status_code == 303
    with db.session() as s:
        added = s.scalars(select(Stage).where(Stage.name == "Audit")).one()
    assert admin.post(f"/admin/stages/{added.id}", {"name": "Audit", "probability": "150"}).status_code == 422
    r = admin.post(f"/admin/stages/{added.id}", {"name": "Security audit", "probability": "40", "outcome": "open"})
    assert r.status_code == 303
    assert admin.post(f"/admin/stages/{added.id}/move", {"direction": "up"}).status_code == 303
    with db.session() as s:
        order = [st.id for st in s.get(Pipeline, pipeline.id).stages]
        stage = s.get(Stage, added.id)
        assert order == [*before[:-1], added.id, before[-1]]
        assert (stage.name, stage.name_ru, stage.probability) == ("Security audit", "", 40)
    assert admin.post(f"/admin/stages/{added.id}/delete").status_code == 303
    with db.session() as s:
        assert s.get(Stage, added.id) is None
        busy = s.scalars(select(Deal.stage_id).where(Deal.pipeline_id == pipeline.id)).first()
    assert busy is not None  # the demo has deals
    r = admin.post(f"/admin/stages/{busy}/delete")
    assert r.status_code == 303
    with db.session() as s:
        assert s.get(Stage, busy) is not None
    assert "move them to another stage first" in admin.get(f"/admin/pipelines/{pipeline.id}").text
    created = admin.post("/admin/pipelines", {"pipeline_name": "Госзакупки", "name": "Заявка", "probability": "5"})
    assert created.status_code == 303
    assert (
        admin.post("/admin/pipelines", {"pipeline_name": "госзакупки", "name": "X", "probability": "5"}).status_code
        == 422
    )


def test_blocklist_add_search_remove(web, db, demo):
    admin = web("admin@ourcompany.test")
    assert admin.post("/admin/blocklist", {"kind": "email", "value": "not an e-mail"}).status_code == 422
    assert (
        admin.post("/admin/blocklist", {"kind": "phone", "value": "8 (495) 111-22-33", "reason": "Спам"}).status_code
        == 303
    )
    again = admin.post("/admin/blocklist", {"kind": "phone", "value": "+7 495 111 22 33"})
    assert again.status_code == 422 and "Already on the blocklist." in again.text
    assert admin.post("/admin/blocklist", {"kind": "domain", "value": "https://www.Spam.example/"}).status_code == 303
    with db.session() as s:
        values = sorted(s.scalars(select(BlocklistEntry.value)))
    assert values == ["+74951112233", "spam.example"]
    found = admin.get("/admin/blocklist?q=495-111", headers={"HX-Request": "true", "HX-Target": "results"})
    assert found.status_code == 200 and "<html" not in found.text and "Спам" in found.text
    assert "spam.example" not in found.text
    assert "spam.example" in admin.get("/admin/blocklist?q=spam").text
    with db.session() as s:
        entry = s.scalars(select(BlocklistEntry).where(BlocklistEntry.value == "spam.example")).one()
    assert admin.post(f"/admin/blocklist/{entry.id}/delete", csrf=False).status_code == 403
    assert admin.post(f"/admin/blocklist/{entry.id}/delete").status_code == 303
    assert "spam.example" not in admin.get("/admin/blocklist").text


def test_audit_log_filters_and_links(web, db, demo):
    admin = web("admin@ourcompany.test")
    admin.post("/admin/blocklist", {"kind": "email", "value": "x@spam.example", "reason": "test"})
    page = admin.get("/admin/audit")
    assert page.status_code == 200
    assert f'href="/organizations/{demo.orgs["romashka"]}"' in page.text
    only = admin.get(f"/admin/audit?entity=blocklist&user={demo.users['admin']}")
    assert "x@spam.example" in only.text and f'href="/organizations/{demo.orgs["romashka"]}"' not in only.text
    none = admin.get("/admin/audit?entity=blocklist&since=2001-01-01&until=2001-01-02")
    assert "No entries" in none.text
    backwards = admin.get("/admin/audit?since=2030-01-02&until=2030-01-01")
    assert backwards.status_code == 200 and "The end of the period is before its start." in backwards.text
    assert admin.get("/admin/audit?since=garbage&user=x").status_code == 200


def test_users_page_has_create_deactivate_reset_password_roles_and_teams(web, demo):
    admin = web("admin@ourcompany.test")
    form = admin.get(f"/admin/users/{demo.users['a']}").text
    for part in (
        'name="role"',
        'name="team_ids"',
        'name="is_active"',
        f'action="/admin/users/{demo.users["a"]}/password"',
    ):
        assert part in form, part
    assert 'href="/admin/users/new"' in admin.get("/admin/users").text
