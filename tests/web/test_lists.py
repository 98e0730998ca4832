"""List actions on the client pages: save the search and filters as a segment, add ticked rows to a group."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import func, select

from core.models import Group, GroupMember, Segment


def test_the_current_filter_is_saved_as_a_segment_and_opens_again(web, db, demo):
    ivan = web("ivan@ourcompany.test")
    page = ivan.get("/organizations?q=ромашка&potential=4").text
    assert "Save as segment" in page
    back = "/organizations?q=ромашка&potential=4"
    r = ivan.post(
        "/clients/segments",
        {"kind": "organization", "name": "Ромашки с потенциалом", "q": "ромашка", "potential": "4", "back": back},
    )
    assert r.status_code == 303
    assert parse_qs(urlsplit(r.headers["location"]).query) == {"q": ["ромашка"], "potential": ["4"]}
    with db.session() as s:
        segment = s.scalars(select(Segment)).one()
        assert segment.filter == {"q": "ромашка", "potential": 4} and segment.client_type == "organization"
    listing = ivan.get("/organizations").text
    assert f'href="/clients/segments/{segment.id}"' in listing and "Ромашки с потенциалом" in listing
    opened = ivan.get(f"/clients/segments/{segment.id}")
    assert opened.status_code == 303 and opened.headers["location"] == r.headers["location"]
    shown = ivan.get(opened.headers["location"]).text
    assert "ООО «Ромашка»" in shown and "АО «Лютик»" not in shown


def test_a_taken_segment_name_is_refused_whatever_its_case(web, db, demo):
    ivan = web("ivan@ourcompany.test")
    form = {"kind": "person", "name": "Закупщики", "q": "закуп", "back": "/persons?q=закуп"}
    assert ivan.post("/clients/segments", form).status_code == 303
    again = ivan.post("/clients/segments", {**form, "name": "ЗАКУПЩИКИ"})
    assert again.status_code == 303 and unquote(again.headers["location"]) == "/persons?q=закуп"
    assert "is taken" in ivan.get(again.headers["location"]).text
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Segment)) == 1


def test_ticked_rows_go_to_a_new_group_and_another_teams_client_is_skipped(web, db, demo):
    ivan = web("ivan@ourcompany.test")
    listing = ivan.get("/organizations").text
    assert 'name="ids"' in listing and 'form="bulk-form"' in listing
    ids = [demo.orgs["romashka"], demo.orgs["lutik"], demo.orgs["beta"]]  # beta belongs to team B
    r = ivan.post(
        "/clients/group-members", {"kind": "organization", "new_group": "Весенняя выставка", "ids": ids, "back": "/x"}
    )
    assert r.status_code == 303 and r.headers["location"] == "/organizations"  # never back to another place
    told = ivan.get("/organizations").text
    assert "2 added to “Весенняя выставка”." in told and "1 skipped: not among the clients you can see." in told
    with db.session() as s:
        group = s.scalars(select(Group).where(Group.name == "Весенняя выставка")).one()
        members = set(s.scalars(select(GroupMember.organization_id).where(GroupMember.group_id == group.id)))
    assert members == {demo.orgs["romashka"], demo.orgs["lutik"]}
    again = ivan.post("/clients/group-members", {"kind": "organization", "group_id": group.id, "ids": ids[:1]})
    assert again.status_code == 303
    assert "Nothing added: they are in “Весенняя выставка” already." in ivan.get("/organizations").text
    in_group = ivan.get(f"/organizations?group={group.id}").text
    assert "ООО «Ромашка»" in in_group and "АО «Лютик»" in in_group


def test_only_another_teams_clients_ticked_adds_nothing_and_says_so(web, db, demo):
    ivan = web("ivan@ourcompany.test")
    ivan.post("/clients/group-members", {"kind": "organization", "new_group": "Чужие", "ids": [demo.orgs["beta"]]})
    told = ivan.get("/organizations").text
    assert "Nothing added." in told and "1 skipped: not among the clients you can see." in told
    assert "already" not in told


def test_nothing_ticked_or_no_group_named_says_what_to_do(web, db, demo):
    ivan = web("ivan@ourcompany.test")
    ivan.post("/clients/group-members", {"kind": "person", "group_id": "", "ids": []})
    assert "Tick the clients to add first." in ivan.get("/persons").text
    ivan.post("/clients/group-members", {"kind": "person", "ids": [demo.persons["anna"]]})
    assert "Choose a group, or name a new one." in ivan.get("/persons").text
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(GroupMember)) == 0
