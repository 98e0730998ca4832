"""The index follows every write: updates, deletes, merges, tag renames, team moves, raw imports, upgrades."""

from __future__ import annotations

from alembic import command
from sqlalchemy import select, text, update

from core.actor import Actor
from core.clients.organizations import delete_organization, update_organization
from core.clients.persons import delete_person, update_person
from core.migrate import alembic_config, upgrade
from core.models import ContactPoint, Person, Tag, person_tags

SYSTEM = Actor.system(source="tests")


def test_renamed_person_is_found_by_the_new_name_only(world):
    with world.db.session() as s:
        update_person(s, actor=SYSTEM, person_id=world.ids["vasilyev"], changes={"last_name": "Ястребов"})
    assert world.names("Ястребов") == ["Олег Ястребов"]
    assert world.names("Ястр") == ["Олег Ястребов"]
    assert world.names("Ястрeбов") == ["Олег Ястребов"]  # a Latin e: a typo
    assert world.names("Васильев") == []
    assert world.names("Васильеа") == []  # the old word is still in the vocabulary, but nobody has it


def test_renamed_organization_and_brand(world):
    with world.db.session() as s:
        update_organization(
            s, actor=SYSTEM, org_id=world.ids["romashka"], changes={"name": "ООО «Василёк»", "brand": "Vasilek"}
        )
    assert world.search("Василёк")[0] == ("organization", "ООО «Василёк»")
    assert world.search("vasilek")[0] == ("organization", "ООО «Василёк»")
    assert world.names("Ромашка")[0] == "Ромашка-Сервис"
    assert "ООО «Василёк»" not in world.names("Ромашка")
    assert world.search("Romashka")[0] == ("organization", "ООО «Василёк»")  # by its mail domain, still romashka


def test_changed_phones_and_emails(world):
    with world.db.session() as s:
        update_person(
            s,
            actor=SYSTEM,
            person_id=world.ids["petrov"],
            changes={"phones": ["+7 916 999-88-77"], "emails": ["boss@romashka.test"]},
        )
    assert world.names("9169998877") == ["Иван Сергеевич Петров"]
    assert world.names("boss@")[:1] == ["Иван Сергеевич Петров"]
    assert world.names("9161112233") == []
    assert world.names("ivan.petrov@romashka.test") == []


def test_deleted_clients_are_gone_with_their_phones(world):
    with world.db.session() as s:
        delete_person(s, actor=SYSTEM, person_id=world.ids["vasilyev"])
        delete_organization(s, actor=SYSTEM, org_id=world.ids["beta"])
    assert world.names("Васильев") == []
    assert world.names("89037654321") == []
    assert world.names("Beta Corp") == []
    assert world.names("4957778899") == []
    assert world.names("Ivan Ivanov") == ["Ivan Ivanov"]  # the person stays, the employment went


def test_merge_moves_points_and_tags_to_the_survivor(world):
    loser, winner = world.ids["vasilyev"], world.ids["petr"]
    with world.db.session() as s:
        s.execute(update(ContactPoint).where(ContactPoint.person_id == loser).values(person_id=winner))
        s.execute(
            person_tags.insert().values(person_id=winner, tag_id=s.scalar(select(Tag.id).where(Tag.name == "VIP")))
        )
        s.execute(update(Person).where(Person.id == loser).values(merged_into_id=winner))
    assert world.names("8 903 765-43-21") == ["Пётр Иванов"]
    assert "Пётр Иванов" in world.names("vip")
    assert world.names("Васильев") == []


def test_tags_follow_changes_and_renames(world):
    with world.db.session() as s:
        update_person(s, actor=SYSTEM, person_id=world.ids["petrov"], changes={"tags": ["Выставка 2025"]})
    assert world.names("выставка 2025") == ["Иван Сергеевич Петров"]
    assert world.names("vip") == ["Beta Corp"]
    with world.db.session() as s:
        s.execute(update(Tag).where(Tag.name == "Выставка 2025").values(name="Expo 2025"))
    assert world.names("expo 2025") == ["Иван Сергеевич Петров"]
    assert world.names("выставка 2025") == []


def test_moving_a_client_to_another_team_moves_it_between_staff(world):
    with world.db.session() as s:
        update_person(s, actor=SYSTEM, person_id=world.ids["vasilyev"], changes={"team_id": world.team_b})
    assert world.names("Васильев", world.staff_a) == []
    assert world.names("Васильев", world.staff_b) == ["Олег Васильев"]


def test_rows_written_with_plain_sql_are_indexed_too(world):
    now = "2025-01-01 00:00:00"
    with world.db.session() as s:
        s.execute(
            text(
                "INSERT INTO persons (first_name, middle_name, last_name, full_name, name_key, position, notes, "
                "team_id, custom, created_at, updated_at) VALUES ('Нина', '', 'Импортова', 'Нина Импортова', "
                "'нина импортова', '', '', :team, '{}', :now, :now)"
            ),
            {"team": world.team_a, "now": now},
        )
        person_id = s.scalar(select(Person.id).where(Person.last_name == "Импортова"))
        s.execute(
            text(
                "INSERT INTO contact_points (person_id, kind, value, display, label) VALUES (:p, 'phone', :v, '', '')"
            ),
            {"p": person_id, "v": "+74991112233"},
        )
    assert world.names("Импортова") == ["Нина Импортова"]
    assert world.names("8 499 111-22-33") == ["Нина Импортова"]
    assert world.names("Импртова") == ["Нина Импортова"]


def test_downgrade_and_upgrade_rebuild_the_index_from_existing_clients(world):
    cfg = alembic_config(world.db)
    with world.db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001_initial")
    assert _search_objects(world.db) == 0
    upgrade(world.db)
    assert world.names("Петрв")[0] == "Иван Сергеевич Петров"
    assert world.names("8 903 765-43-21") == ["Олег Васильев"]
    assert set(world.names("Партнер")) == {"ООО «Ромашка»", "Betty Romanova"}
    assert world.names("s.ivan") == ["Sergey Ivanov"]


def _search_objects(db) -> int:  # noqa: ANN001
    """How many search tables, schemas and triggers the database has."""
    if db.is_postgres:
        sql = (
            "SELECT (SELECT count(*) FROM pg_namespace WHERE nspname = 'search_index')"
            " + (SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'search%')"
        )
    else:
        sql = "SELECT count(*) FROM sqlite_master WHERE name LIKE 'search%'"
    with db.engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


def test_every_trigger_is_installed_at_head(db):
    if db.is_postgres:
        sql = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE 'search%'"
        expected = 3 * 3 + 2 * 2 + 3  # points and tag links x3 events, persons/orgs x2, renames
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'search%'"
        expected = 17
    with db.engine.connect() as conn:
        assert len(conn.execute(text(sql)).all()) == expected


def _index_contents(db) -> tuple[dict[str, list[tuple]], set[str]]:  # noqa: ANN001
    """Every row of every index table (sorted, by table), and the vocabulary."""
    with db.engine.connect() as conn:
        if db.is_postgres:
            tables = conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'search_index' AND tablename <> 'words'")
            ).scalars()
            queries = {t: f"SELECT * FROM search_index.{t}" for t in tables}
            words = "SELECT word FROM search_index.words"
        else:
            tables = conn.execute(
                text(
                    "SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%' "
                    "AND name <> 'search_word_trigrams'"
                )
            ).scalars()
            queries = {t: f"SELECT rowid, * FROM {t}" for t in tables}
            words = "SELECT word FROM search_words"
        contents = {t: sorted(conn.execute(text(q)).all()) for t, q in queries.items()}
        return contents, set(conn.execute(text(words)).scalars())


def test_triggers_build_the_same_index_as_a_fresh_backfill(world):
    loser, winner = world.ids["vasilyev"], world.ids["petr"]
    with world.db.session() as s:
        update_person(s, actor=SYSTEM, person_id=world.ids["petrov"], changes={"last_name": "Петровский", "tags": []})
        update_organization(s, actor=SYSTEM, org_id=world.ids["beta"], changes={"brand": "BetaBrand", "tags": ["Key"]})
        update_person(s, actor=SYSTEM, person_id=world.ids["ivanov_lat"], changes={"emails": ["new@mail.test"]})
        s.execute(update(ContactPoint).where(ContactPoint.person_id == loser).values(person_id=winner))
        s.execute(update(Person).where(Person.id == loser).values(merged_into_id=winner))
        s.execute(update(Tag).where(Tag.name == "VIP").values(name="V.I.P."))
        delete_person(s, actor=SYSTEM, person_id=world.ids["b_smith"])
    by_triggers, vocabulary = _index_contents(world.db)
    cfg = alembic_config(world.db)
    with world.db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001_initial")
    upgrade(world.db)
    rebuilt, fresh_vocabulary = _index_contents(world.db)
    assert len(by_triggers) >= 6
    assert by_triggers == rebuilt
    # The vocabulary is append-only: the triggers keep "петров" and "smith", no longer anyone's.
    assert fresh_vocabulary < vocabulary
    assert {"петров", "smith"} <= vocabulary - fresh_vocabulary
