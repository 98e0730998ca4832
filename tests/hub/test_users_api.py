"""Teams and users through the API: admins only, names unique whatever their case or alphabet."""

from __future__ import annotations


def test_team_names_are_unique_ignoring_case_in_any_alphabet(admin_api):
    first = admin_api.post("/api/v1/teams", json={"name": "Отдел продаж"})
    assert first.status_code == 201, first.text
    for twin in ("отдел продаж", "ОТДЕЛ  ПРОДАЖ", "Отдел Продаж"):
        again = admin_api.post("/api/v1/teams", json={"name": twin})
        assert again.status_code == 409, (twin, again.text)
        assert "already exists" in again.json()["detail"]
    other = admin_api.post("/api/v1/teams", json={"name": "Отдел закупок"})
    assert other.status_code == 201


def test_only_admins_create_teams(users):
    staff = users.make("staff@ourcompany.test")
    r = users.client(staff).post("/api/v1/teams", json={"name": "Своя команда"})
    assert r.status_code in (403, 404)
    assert "detail" in r.json()
