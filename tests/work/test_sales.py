"""Pipelines and stages (admin), deals and their history, the forecast on a fixed data set, the sales cycle."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from core.models import AuditEntry
from core.sales.forecast import sales_cycle_days, sales_cycle_stats
from core.work.clock import local_date
from tests.work.conftest import API


def _default(api) -> dict:  # noqa: ANN001
    return next(p for p in api.get(f"{API}/pipelines").json() if p["is_default"])


def _stage(pipeline: dict, name: str) -> int:
    return next(s["id"] for s in pipeline["stages"] if s["name"] == name)


def test_pipeline_admin(world):
    admin, anna = world.api(world.admin), world.api(world.anna)
    body = {
        "name": "Партнёры",
        "stages": [
            {"name": "Lead", "probability": 10},
            {"name": "Offer", "probability": 50},
            {"name": "Won", "probability": 100, "outcome": "won"},
        ],
    }
    assert anna.post(f"{API}/pipelines", json=body).status_code == 403
    bad = admin.post(f"{API}/pipelines", json={**body, "stages": [{"name": "X", "probability": 101}]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "stages.0.probability"
    r = admin.post(f"{API}/pipelines", json=body)
    assert r.status_code == 201, r.text
    pipe = r.json()
    assert [(s["name"], s["position"], s["probability"]) for s in pipe["stages"]] == [
        ("Lead", 0, 10),
        ("Offer", 1, 50),
        ("Won", 2, 100),
    ]
    assert pipe["is_default"] is False
    assert admin.post(f"{API}/pipelines", json=body).status_code == 409

    added = admin.post(f"{API}/pipelines/{pipe['id']}/stages", json={"name": "Demo", "probability": 30, "position": 1})
    assert added.status_code == 201, added.text
    names = [s["name"] for s in admin.get(f"{API}/pipelines/{pipe['id']}").json()["stages"]]
    assert names == ["Lead", "Demo", "Offer", "Won"]
    ids = {s["name"]: s["id"] for s in admin.get(f"{API}/pipelines/{pipe['id']}").json()["stages"]}

    wrong = admin.put(f"{API}/pipelines/{pipe['id']}/stages/order", json={"stage_ids": [ids["Lead"]]})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "stage_ids"
    order = [ids["Lead"], ids["Offer"], ids["Demo"], ids["Won"]]
    r = admin.put(f"{API}/pipelines/{pipe['id']}/stages/order", json={"stage_ids": order})
    assert [s["id"] for s in r.json()["stages"]] == order
    assert [s["position"] for s in r.json()["stages"]] == [0, 1, 2, 3]

    assert admin.patch(f"{API}/stages/{ids['Demo']}", json={"probability": 150}).status_code == 422
    assert admin.patch(f"{API}/stages/{ids['Demo']}", json={"probability": 35}).json()["probability"] == 35
    assert anna.patch(f"{API}/stages/{ids['Demo']}", json={"probability": 1}).status_code == 403

    # one default pipeline
    old_default = _default(admin)
    assert admin.patch(f"{API}/pipelines/{pipe['id']}", json={"is_default": True}).json()["is_default"] is True
    defaults = [p["id"] for p in admin.get(f"{API}/pipelines").json() if p["is_default"]]
    assert defaults == [pipe["id"]]
    assert admin.delete(f"{API}/pipelines/{pipe['id']}").status_code == 409

    # a stage with a deal, or in a deal's history, stays
    deal = anna.post(
        f"{API}/deals", json={"title": "Партнёрство", "organization_id": world.org_a, "stage_id": ids["Offer"]}
    ).json()
    assert deal["pipeline_id"] == pipe["id"]
    r = admin.delete(f"{API}/stages/{ids['Offer']}")
    assert r.status_code == 409 and "move them" in r.json()["detail"]
    anna.post(f"{API}/deals/{deal['id']}/move", json={"stage_id": ids["Lead"]})
    assert admin.delete(f"{API}/stages/{ids['Offer']}").status_code == 409
    assert admin.delete(f"{API}/stages/{ids['Demo']}").status_code == 204
    assert admin.patch(f"{API}/pipelines/{old_default['id']}", json={"is_default": True}).status_code == 200
    assert admin.delete(f"{API}/pipelines/{pipe['id']}").status_code == 409  # it has a deal


def test_deal_crud_move_and_history(world, db):
    anna, boris = world.api(world.anna), world.api(world.boris)
    pipe = _default(anna)
    r = anna.post(
        f"{API}/deals",
        json={
            "title": "Лицензии 1С",
            "organization_id": world.org_a,
            "amount": "250000.50",
            "person_id": world.person_a,
        },
    )
    assert r.status_code == 201, r.text
    deal = r.json()
    assert (deal["pipeline_id"], deal["stage_id"], deal["status"]) == (pipe["id"], _stage(pipe, "Monitoring"), "open")
    assert (deal["currency"], deal["responsible_id"], deal["amount"]) == ("RUB", world.anna.id, "250000.50")
    did = deal["id"]

    for call in (
        lambda: boris.get(f"{API}/deals/{did}"),
        lambda: boris.patch(f"{API}/deals/{did}", json={"title": "x"}),
        lambda: boris.post(f"{API}/deals/{did}/move", json={"stage_id": _stage(pipe, "Lost")}),
        lambda: boris.get(f"{API}/deals/{did}/history"),
        lambda: boris.delete(f"{API}/deals/{did}"),
    ):
        assert call().status_code == 404
    assert boris.get(f"{API}/deals").json()["total"] == 0
    assert boris.post(f"{API}/deals", json={"title": "x", "organization_id": world.org_a}).status_code == 404

    lost = anna.post(f"{API}/deals/{did}/move", json={"stage_id": _stage(pipe, "Lost"), "reason": "Выбрали конкурента"})
    assert lost.json()["status"] == "lost"
    assert lost.json()["closed_on"] == local_date(datetime.now(UTC)).isoformat()
    assert lost.json()["lost_reason"] == "Выбрали конкурента"
    back = anna.patch(f"{API}/deals/{did}", json={"stage_id": _stage(pipe, "Negotiation"), "amount": "300000"}).json()
    assert (back["status"], back["closed_on"], back["lost_reason"], back["amount"]) == ("open", None, "", "300000.00")
    same = anna.post(f"{API}/deals/{did}/move", json={"stage_id": _stage(pipe, "Negotiation")})
    assert same.status_code == 200
    history = anna.get(f"{API}/deals/{did}/history").json()
    assert [h["to_stage_id"] for h in history] == [
        _stage(pipe, "Monitoring"),
        _stage(pipe, "Lost"),
        _stage(pipe, "Negotiation"),
    ]

    other = world.api(world.admin).post(
        f"{API}/pipelines", json={"name": "Other", "stages": [{"name": "Only", "probability": 50}]}
    )
    r = anna.post(f"{API}/deals/{did}/move", json={"stage_id": other.json()["stages"][0]["id"]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "stage_id"
    assert anna.patch(f"{API}/deals/{did}", json={"amount": "-5"}).status_code == 422
    bad = anna.patch(f"{API}/deals/{did}", json={"currency": "RU1"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "currency"
    bad = anna.post(f"{API}/deals", json={"title": "x", "organization_id": world.org_a, "pipeline_id": 9999})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "pipeline_id"

    assert [d["id"] for d in anna.get(f"{API}/deals", params={"q": "1С"}).json()["items"]] == [did]
    assert anna.get(f"{API}/deals", params={"status": "won"}).json()["total"] == 0
    assert anna.get(f"{API}/deals", params={"stage_id": _stage(pipe, "Negotiation")}).json()["total"] == 1
    assert anna.get(f"{API}/deals", params={"sort": "colour"}).status_code == 422

    assert anna.delete(f"{API}/deals/{did}").status_code == 204
    with db.session() as s:
        actions = [
            e.action
            for e in s.scalars(select(AuditEntry).where(AuditEntry.entity_type == "deal").order_by(AuditEntry.id))
        ]
    assert actions == ["create", "move", "move", "update", "delete"]


def test_forecast_exact_on_a_fixed_data_set(world):
    admin, anna, boris = world.api(world.admin), world.api(world.anna), world.api(world.boris)
    pipe = admin.post(
        f"{API}/pipelines",
        json={
            "name": "Forecast",
            "stages": [
                {"name": "Lead", "probability": 10},
                {"name": "Offer", "probability": 50},
                {"name": "Contract", "probability": 90},
                {"name": "Won", "probability": 100, "outcome": "won"},
                {"name": "Lost", "probability": 0, "outcome": "lost"},
            ],
        },
    ).json()
    st = {s["name"]: s["id"] for s in pipe["stages"]}

    def deal(api, stage: str, amount: str, close: str | None, org: int) -> int:  # noqa: ANN001
        body = {"title": f"{stage} {amount}", "organization_id": org, "pipeline_id": pipe["id"], "amount": amount}
        body.update({"stage_id": st[stage], "expected_close_on": close})
        r = api.post(f"{API}/deals", json=body)
        assert r.status_code == 201, r.text
        return r.json()["id"]

    deal(anna, "Lead", "1000.00", "2031-01-15", world.org_a)
    deal(anna, "Lead", "333.33", "2031-01-20", world.org_a)
    deal(anna, "Offer", "2000.05", "2031-02-01", world.org_a)
    deal(anna, "Contract", "500", None, world.org_a)
    won = deal(anna, "Offer", "7777", "2031-01-01", world.org_a)
    anna.post(f"{API}/deals/{won}/move", json={"stage_id": st["Won"]})
    lost = deal(anna, "Lead", "8888", "2031-01-01", world.org_a)
    anna.post(f"{API}/deals/{lost}/move", json={"stage_id": st["Lost"], "reason": "Нет бюджета"})
    deal(boris, "Offer", "10000", "2031-02-10", world.org_b)

    f = anna.get(f"{API}/pipelines/{pipe['id']}/forecast").json()
    assert [(s["name"], s["probability"], s["count"], s["amount"], s["weighted"]) for s in f["stages"]] == [
        ("Lead", 10, 2, "1333.33", "133.33"),
        ("Offer", 50, 1, "2000.05", "1000.03"),
        ("Contract", 90, 1, "500.00", "450.00"),
    ]
    assert [(m["month"], m["count"], m["amount"], m["weighted"]) for m in f["months"]] == [
        ("2031-01", 2, "1333.33", "133.33"),
        ("2031-02", 1, "2000.05", "1000.03"),
        (None, 1, "500.00", "450.00"),
    ]
    assert (f["count"], f["amount"], f["weighted"]) == (4, "3833.38", "1583.36")

    everyone = admin.get(f"{API}/pipelines/{pipe['id']}/forecast").json()
    assert (everyone["count"], everyone["amount"], everyone["weighted"]) == (5, "13833.38", "6583.36")
    assert everyone["months"][1] == {"month": "2031-02", "count": 2, "amount": "12000.05", "weighted": "6000.03"}
    only_b = admin.get(f"{API}/pipelines/{pipe['id']}/forecast", params={"team_id": world.users.teams["B"]}).json()
    assert (only_b["count"], only_b["weighted"]) == (1, "5000.00")
    assert anna.get(f"{API}/pipelines/99999/forecast").status_code == 404


def test_sales_cycle_from_the_first_contact_of_the_sale_to_won(world, db):
    anna = world.api(world.anna)
    pipe = _default(anna)
    deal = anna.post(f"{API}/deals", json={"title": "Внедрение", "organization_id": world.org_a}).json()
    open_deal = anna.post(f"{API}/deals", json={"title": "Ещё", "organization_id": world.org_a}).json()
    first = datetime.now(UTC) - timedelta(days=90)
    # an old call with the company, not about this deal, does not count
    old = datetime.now(UTC) - timedelta(days=300)
    anna.post(
        f"{API}/interactions", json={"kind": "call_out", "organization_id": world.org_a, "occurred_at": old.isoformat()}
    )
    r = anna.post(
        f"{API}/interactions", json={"kind": "call_out", "deal_id": deal["id"], "occurred_at": first.isoformat()}
    )
    assert r.status_code == 201, r.text
    anna.post(f"{API}/deals/{deal['id']}/move", json={"stage_id": _stage(pipe, "Contract signed")})
    expected = (local_date(datetime.now(UTC)) - local_date(first)).days
    assert expected in (89, 90, 91)
    with db.session() as s:
        actor = world.actor(world.anna)
        assert sales_cycle_days(s, actor=actor, deal_id=deal["id"]) == expected
        assert sales_cycle_days(s, actor=actor, deal_id=open_deal["id"]) is None
        stats = sales_cycle_stats(s, actor=actor)
        assert (stats.deals, stats.average_days, stats.max_days) == (1, float(expected), expected)
        assert sales_cycle_stats(s, actor=world.actor(world.boris)).deals == 0
        assert sales_cycle_stats(s, actor=actor, won_from=date.today() + timedelta(days=2)).deals == 0
