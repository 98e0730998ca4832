"""search index: FTS5 trigram tables and triggers on SQLite, pg_trgm tables and triggers on PostgreSQL

Revision ID: 0002_search
Revises: 0001_initial

Hand-written (the models cannot express it); see ``core/search/__init__.py`` for the design.

Both databases get the same logical index, kept in step with the client tables by triggers in
the writing transaction, so that every writer (services, merges, imports, raw SQL, bulk loads)
keeps it right:

- names: per person and per organization, the ``name_key`` (plus the brand) padded with
  spaces, so that "a word starting with x" is the substring `` x`` and "the whole word x" is
  `` x ``; and the same words one by one, for whole words and prefixes.
- contact points: a row per e-mail, mail domain and phone (E.164 digits without the plus),
  per owner kind.
- tags: a row per tagged client, ``| tag | tag |`` (ё written е).
- the vocabulary of name words, for typo tolerance. Append-only (a word no longer used costs
  one lookup that finds nobody): taking words out would need a count per word, a hot row that
  every writer of a common name would queue on.

SQLite: FTS5 tables (trigram tokenizer, and the word tokenizer for whole words), ``search_*``.
PostgreSQL: schema ``search_index``, B-trees for words and prefixes, pg_trgm GIN indexes for
substrings. Team and merge state are not copied: queries join the client table by primary key.
On both, a row is rewritten only when what it holds changes (a rename, a client's tags), never
because the client gained a phone or an e-mail: FTS5 leaves tombstones for every rewrite (an
index whose rows were rewritten on each new point grew several times slower), and on PostgreSQL
rewritten rows gather at the end of the heap, where the planner does not expect them.

On PostgreSQL the index lives in its own schema: derived data, apart from the model tables
(Alembic's comparison of models and database looks at the default schema only). Its triggers
are statement-level with transition tables, so a COPY or a bulk import updates the index in
one set-based statement; renames, which PostgreSQL only allows as row triggers with a column
condition, are row-level and fire only when the name really changed. SQLite has row triggers
only.

If a later migration recreates one of the watched tables on SQLite (Alembic batch mode copies
the table and drops the old one), its triggers go with it: create them again from
``sqlite_triggers()`` of this module, or the index stops following writes
(``tests/search/test_index_sync.py`` counts them at head).
"""

from __future__ import annotations

from alembic import op

revision = "0002_search"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

# --------------------------------------------------------------------------- SQLite
#
# FTS5 rewrites a row as a delete plus an insert, and a delete leaves tombstones in the index
# until segments are merged; an index whose rows are rewritten on every change grows slow. So
# on SQLite nothing is rewritten in the normal course: names are written when a client is
# created or renamed, each contact point is its own row (rowid = the point's id, in a table per
# owner kind; the owner is read from contact_points, so a merge that moves points to the
# survivor costs the index nothing), and tags, which change seldom, have a row per tagged client.

_SQLITE_WORDS = """
    INSERT OR IGNORE INTO search_words(word)
    SELECT value FROM json_each(
        CASE WHEN json_valid('["' || replace({key}, ' ', '","') || '"]')
             THEN '["' || replace({key}, ' ', '","') || '"]' ELSE '[]' END)
    WHERE length(value) >= 3 AND value GLOB '*[^0-9]*';
"""

_SQLITE_ORG_NAMES = (
    "' ' || {r}.name_key || ' ' || CASE WHEN {r}.brand_key <> '' AND {r}.brand_key <> {r}.name_key "
    "THEN {r}.brand_key || ' ' ELSE '' END"
)

_SQLITE_POINT = "' ' || CASE WHEN {r}.kind = 'phone' THEN replace({r}.value, '+', '') ELSE {r}.value END || ' '"


def _sqlite_point_rows(r: str) -> str:
    """Statements adding the index row of point ``r`` to the table of its owner's kind."""
    value = _SQLITE_POINT.format(r=r)
    return f"""
    INSERT INTO search_person_points(rowid, value) SELECT {r}.id, {value} WHERE {r}.person_id IS NOT NULL;
    INSERT INTO search_org_points(rowid, value) SELECT {r}.id, {value} WHERE {r}.organization_id IS NOT NULL;
"""


_SQLITE_TAGGED = {"person": ("search_person_tags", "person_tags", "person_id"),
                  "organization": ("search_org_tags", "organization_tags", "organization_id")}


def _sqlite_tag_rows(owner: str, ids: str) -> str:
    """An INSERT of the tag rows of the clients whose ids are in ``ids`` (none for an untagged client)."""
    table, links, column = _SQLITE_TAGGED[owner]
    return f"""
    INSERT INTO {table}(rowid, tags)
    SELECT l.{column}, '| ' || group_concat(replace(replace(t.name, 'ё', 'е'), 'Ё', 'Е'), ' | ') || ' |'
    FROM {links} l JOIN tags t ON t.id = l.tag_id WHERE l.{column} IN ({ids}) GROUP BY l.{column};
"""


def _sqlite_tags(owner: str, ids: str) -> str:
    """Statements rewriting the tag rows of the clients whose ids are in ``ids``."""
    return f"DELETE FROM {_SQLITE_TAGGED[owner][0]} WHERE rowid IN ({ids});" + _sqlite_tag_rows(owner, ids)


def sqlite_triggers() -> list[str]:
    """The triggers that keep the SQLite index in step with the client tables."""
    org_names = _SQLITE_ORG_NAMES.format(r="new")
    return [
        f"""CREATE TRIGGER search_persons_ai AFTER INSERT ON persons BEGIN
            INSERT INTO search_persons(rowid, names) VALUES (new.id, ' ' || new.name_key || ' ');
            INSERT INTO search_person_words(rowid, words) VALUES (new.id, new.name_key);
            {_SQLITE_WORDS.format(key="new.name_key")}
        END""",
        f"""CREATE TRIGGER search_persons_au AFTER UPDATE OF name_key ON persons
        WHEN old.name_key IS NOT new.name_key BEGIN
            UPDATE search_persons SET names = ' ' || new.name_key || ' ' WHERE rowid = new.id;
            UPDATE search_person_words SET words = new.name_key WHERE rowid = new.id;
            {_SQLITE_WORDS.format(key="new.name_key")}
        END""",
        """CREATE TRIGGER search_persons_ad AFTER DELETE ON persons BEGIN
            DELETE FROM search_persons WHERE rowid = old.id;
            DELETE FROM search_person_words WHERE rowid = old.id;
            DELETE FROM search_person_tags WHERE rowid = old.id;
        END""",
        f"""CREATE TRIGGER search_orgs_ai AFTER INSERT ON organizations BEGIN
            INSERT INTO search_orgs(rowid, names) VALUES (new.id, {org_names});
            INSERT INTO search_org_words(rowid, words) VALUES (new.id, {org_names});
            {_SQLITE_WORDS.format(key="new.name_key")}
            {_SQLITE_WORDS.format(key="new.brand_key")}
        END""",
        f"""CREATE TRIGGER search_orgs_au AFTER UPDATE OF name_key, brand_key ON organizations
        WHEN old.name_key IS NOT new.name_key OR old.brand_key IS NOT new.brand_key BEGIN
            UPDATE search_orgs SET names = {org_names} WHERE rowid = new.id;
            UPDATE search_org_words SET words = {org_names} WHERE rowid = new.id;
            {_SQLITE_WORDS.format(key="new.name_key")}
            {_SQLITE_WORDS.format(key="new.brand_key")}
        END""",
        """CREATE TRIGGER search_orgs_ad AFTER DELETE ON organizations BEGIN
            DELETE FROM search_orgs WHERE rowid = old.id;
            DELETE FROM search_org_words WHERE rowid = old.id;
            DELETE FROM search_org_tags WHERE rowid = old.id;
        END""",
        f"""CREATE TRIGGER search_points_ai AFTER INSERT ON contact_points BEGIN
            {_sqlite_point_rows("new")}
        END""",
        f"""CREATE TRIGGER search_points_au AFTER UPDATE OF kind, value, person_id, organization_id ON contact_points
        WHEN old.kind IS NOT new.kind OR old.value IS NOT new.value
            OR (old.person_id IS NULL) <> (new.person_id IS NULL) BEGIN
            DELETE FROM search_person_points WHERE rowid = old.id;
            DELETE FROM search_org_points WHERE rowid = old.id;
            {_sqlite_point_rows("new")}
        END""",
        """CREATE TRIGGER search_points_ad AFTER DELETE ON contact_points BEGIN
            DELETE FROM search_person_points WHERE rowid = old.id;
            DELETE FROM search_org_points WHERE rowid = old.id;
        END""",
        f"CREATE TRIGGER search_person_tags_ai AFTER INSERT ON person_tags BEGIN {_sqlite_tags('person', 'new.person_id')} END",
        f"CREATE TRIGGER search_person_tags_ad AFTER DELETE ON person_tags BEGIN {_sqlite_tags('person', 'old.person_id')} END",
        f"""CREATE TRIGGER search_person_tags_au AFTER UPDATE ON person_tags BEGIN
            {_sqlite_tags("person", "old.person_id, new.person_id")}
        END""",
        f"""CREATE TRIGGER search_org_tags_ai AFTER INSERT ON organization_tags BEGIN
            {_sqlite_tags("organization", "new.organization_id")}
        END""",
        f"""CREATE TRIGGER search_org_tags_ad AFTER DELETE ON organization_tags BEGIN
            {_sqlite_tags("organization", "old.organization_id")}
        END""",
        f"""CREATE TRIGGER search_org_tags_au AFTER UPDATE ON organization_tags BEGIN
            {_sqlite_tags("organization", "old.organization_id, new.organization_id")}
        END""",
        f"""CREATE TRIGGER search_tags_au AFTER UPDATE OF name ON tags BEGIN
            {_sqlite_tags("person", "SELECT person_id FROM person_tags WHERE tag_id = new.id")}
            {_sqlite_tags("organization", "SELECT organization_id FROM organization_tags WHERE tag_id = new.id")}
        END""",
        """CREATE TRIGGER search_words_ai AFTER INSERT ON search_words BEGIN
            INSERT INTO search_word_trigrams(word) VALUES (' ' || new.word || ' ');
        END""",
    ]


# Whole words of names, by FTS5's word tokenizer: a question of whole words ("иван петров") is
# answered from the doclists of two terms instead of the trigrams of two common names.
SQLITE_WORD_TABLES = ("search_person_words", "search_org_words")
SQLITE_TABLES = {
    "search_persons": "names",
    "search_orgs": "names",
    "search_person_points": "value",
    "search_org_points": "value",
    "search_person_tags": "tags",
    "search_org_tags": "tags",
}


def _sqlite_upgrade() -> None:
    for table, column in SQLITE_TABLES.items():
        op.execute(f"CREATE VIRTUAL TABLE {table} USING fts5({column}, tokenize = 'trigram', columnsize = 0)")
    for table in SQLITE_WORD_TABLES:
        op.execute(
            f"CREATE VIRTUAL TABLE {table} USING fts5(words, tokenize = \"unicode61 remove_diacritics 0 "
            "tokenchars '_'\", prefix = '1 2 3', columnsize = 0)"
        )
    op.execute("CREATE TABLE search_words (word TEXT PRIMARY KEY) WITHOUT ROWID")
    op.execute("CREATE VIRTUAL TABLE search_word_trigrams USING fts5(word, tokenize = 'trigram')")
    for ddl in sqlite_triggers():
        op.execute(ddl)
    # Index the clients that exist already (an upgrade of a database in use).
    op.execute("INSERT INTO search_persons(rowid, names) SELECT id, ' ' || name_key || ' ' FROM persons")
    op.execute("INSERT INTO search_person_words(rowid, words) SELECT id, name_key FROM persons")
    op.execute(
        f"INSERT INTO search_org_words(rowid, words) SELECT o.id, {_SQLITE_ORG_NAMES.format(r='o')} FROM organizations o"
    )
    op.execute(
        f"INSERT INTO search_orgs(rowid, names) SELECT o.id, {_SQLITE_ORG_NAMES.format(r='o')} FROM organizations o"
    )
    for table, owner in (("search_person_points", "person_id"), ("search_org_points", "organization_id")):
        op.execute(
            f"INSERT INTO {table}(rowid, value) SELECT p.id, {_SQLITE_POINT.format(r='p')} FROM contact_points p "
            f"WHERE p.{owner} IS NOT NULL"
        )
    op.execute(_sqlite_tag_rows("person", "SELECT person_id FROM person_tags"))
    op.execute(_sqlite_tag_rows("organization", "SELECT organization_id FROM organization_tags"))
    for source in ("SELECT name_key AS k FROM persons", "SELECT name_key AS k FROM organizations",
                   "SELECT brand_key AS k FROM organizations"):
        op.execute(_SQLITE_WORDS.format(key="s.k").replace("FROM json_each(", f"FROM ({source}) s, json_each(", 1))


def _sqlite_downgrade() -> None:
    for ddl in sqlite_triggers():
        op.execute("DROP TRIGGER IF EXISTS " + ddl.split()[2])
    for table in (*SQLITE_TABLES, *SQLITE_WORD_TABLES, "search_word_trigrams", "search_words"):
        op.execute(f"DROP TABLE IF EXISTS {table}")


# --------------------------------------------------------------------------- PostgreSQL
#
# Schema ``search_index``. Whole words and word prefixes are answered from a B-tree of (word,
# id) pairs, as an ordered range scan that stops at the LIMIT: trigram GIN indexes must build
# the whole bitmap of a common word (tens of thousands of rows) before the LIMIT helps. The
# trigram indexes serve what a B-tree cannot: substrings of names, digits inside phones,
# e-mail substrings, tags. Points are kept per owner kind, with the owner and the point's kind,
# so that a question about persons' e-mails never wades through organizations' rows. As on
# SQLite, rows are written once (names on insert and rename, a row per contact point, a row per
# tagged client), so that their order in the heap says nothing about their content and the
# planner's estimates hold. The B-trees use the C collation: a LIKE prefix is a byte range
# whatever the database's collation, and the search can ask for rows in index order.

_PG_FUNCTIONS = r"""
CREATE FUNCTION search_index.add_words(keys text[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO search_index.words(word)
    SELECT DISTINCT w FROM unnest(keys) k, unnest(string_to_array(k, ' ')) w
    WHERE length(w) >= 3 AND w ~ '[^0-9]'
    ON CONFLICT DO NOTHING
$$;

CREATE FUNCTION search_index.org_names(name_key text, brand_key text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT ' ' || name_key || ' '
        || CASE WHEN brand_key <> '' AND brand_key <> name_key THEN brand_key || ' ' ELSE '' END
$$;

CREATE FUNCTION search_index.point_value(kind text, value text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT ' ' || CASE WHEN kind = 'phone' THEN replace(value, '+', '') ELSE value END || ' '
$$;

CREATE FUNCTION search_index.refresh_person_tags(ids integer[]) RETURNS void LANGUAGE sql AS $$
    DELETE FROM search_index.person_tags WHERE id IN (SELECT unnest(ids));
    INSERT INTO search_index.person_tags(id, tags)
    SELECT l.person_id, '| ' || string_agg(translate(t.name, 'ёЁ', 'еЕ'), ' | ' ORDER BY t.name) || ' |'
    FROM person_tags l JOIN tags t ON t.id = l.tag_id WHERE l.person_id IN (SELECT unnest(ids))
    GROUP BY l.person_id
$$;

CREATE FUNCTION search_index.refresh_org_tags(ids integer[]) RETURNS void LANGUAGE sql AS $$
    DELETE FROM search_index.org_tags WHERE id IN (SELECT unnest(ids));
    INSERT INTO search_index.org_tags(id, tags)
    SELECT l.organization_id, '| ' || string_agg(translate(t.name, 'ёЁ', 'еЕ'), ' | ' ORDER BY t.name) || ' |'
    FROM organization_tags l JOIN tags t ON t.id = l.tag_id WHERE l.organization_id IN (SELECT unnest(ids))
    GROUP BY l.organization_id
$$;

CREATE FUNCTION search_index.persons_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO search_index.persons(id, names) SELECT id, ' ' || name_key || ' ' FROM new_rows;
        INSERT INTO search_index.person_words(word, id)
        SELECT DISTINCT w, n.id FROM new_rows n, unnest(string_to_array(n.name_key, ' ')) w WHERE w <> '';
        PERFORM search_index.add_words(ARRAY(SELECT name_key FROM new_rows));
    ELSE
        DELETE FROM search_index.persons WHERE id IN (SELECT id FROM old_rows);
        DELETE FROM search_index.person_words WHERE id IN (SELECT id FROM old_rows);
        DELETE FROM search_index.person_tags WHERE id IN (SELECT id FROM old_rows);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION search_index.orgs_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO search_index.orgs(id, names)
        SELECT id, search_index.org_names(name_key, brand_key) FROM new_rows;
        INSERT INTO search_index.org_words(word, id)
        SELECT DISTINCT w, n.id FROM new_rows n,
            unnest(string_to_array(n.name_key || ' ' || n.brand_key, ' ')) w WHERE w <> '';
        PERFORM search_index.add_words(ARRAY(SELECT name_key FROM new_rows UNION ALL SELECT brand_key FROM new_rows));
    ELSE
        DELETE FROM search_index.orgs WHERE id IN (SELECT id FROM old_rows);
        DELETE FROM search_index.org_words WHERE id IN (SELECT id FROM old_rows);
        DELETE FROM search_index.org_tags WHERE id IN (SELECT id FROM old_rows);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION search_index.persons_renamed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE search_index.persons SET names = ' ' || NEW.name_key || ' ' WHERE id = NEW.id;
    DELETE FROM search_index.person_words WHERE id = NEW.id;
    INSERT INTO search_index.person_words(word, id)
    SELECT DISTINCT w, NEW.id FROM unnest(string_to_array(NEW.name_key, ' ')) w WHERE w <> '';
    PERFORM search_index.add_words(ARRAY[NEW.name_key]);
    RETURN NULL;
END $$;

CREATE FUNCTION search_index.orgs_renamed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE search_index.orgs SET names = search_index.org_names(NEW.name_key, NEW.brand_key) WHERE id = NEW.id;
    DELETE FROM search_index.org_words WHERE id = NEW.id;
    INSERT INTO search_index.org_words(word, id)
    SELECT DISTINCT w, NEW.id FROM unnest(string_to_array(NEW.name_key || ' ' || NEW.brand_key, ' ')) w
    WHERE w <> '';
    PERFORM search_index.add_words(ARRAY[NEW.name_key, NEW.brand_key]);
    RETURN NULL;
END $$;

CREATE FUNCTION search_index.add_points(ids integer[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO search_index.person_points(id, person_id, kind, value)
    SELECT id, person_id, kind, search_index.point_value(kind, value) FROM contact_points
    WHERE person_id IS NOT NULL AND id IN (SELECT unnest(ids));
    INSERT INTO search_index.org_points(id, organization_id, kind, value)
    SELECT id, organization_id, kind, search_index.point_value(kind, value) FROM contact_points
    WHERE organization_id IS NOT NULL AND id IN (SELECT unnest(ids))
$$;

CREATE FUNCTION search_index.drop_points(ids integer[]) RETURNS void LANGUAGE sql AS $$
    DELETE FROM search_index.person_points WHERE id IN (SELECT unnest(ids));
    DELETE FROM search_index.org_points WHERE id IN (SELECT unnest(ids))
$$;

CREATE FUNCTION search_index.points_sync() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed integer[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO search_index.person_points(id, person_id, kind, value)
        SELECT id, person_id, kind, search_index.point_value(kind, value) FROM new_rows WHERE person_id IS NOT NULL;
        INSERT INTO search_index.org_points(id, organization_id, kind, value)
        SELECT id, organization_id, kind, search_index.point_value(kind, value) FROM new_rows
        WHERE organization_id IS NOT NULL;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM search_index.drop_points(ARRAY(SELECT id FROM old_rows));
    ELSE
        -- A new display text or label changes nothing here; a new owner (a merge), kind or value does.
        changed := ARRAY(
            SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE (n.person_id, n.organization_id, n.kind, n.value)
                  IS DISTINCT FROM (o.person_id, o.organization_id, o.kind, o.value));
        PERFORM search_index.drop_points(changed);
        PERFORM search_index.add_points(changed);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION search_index.person_tags_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM search_index.refresh_person_tags(ARRAY(SELECT DISTINCT person_id FROM new_rows));
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        PERFORM search_index.refresh_person_tags(ARRAY(SELECT DISTINCT person_id FROM old_rows));
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION search_index.org_tags_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM search_index.refresh_org_tags(ARRAY(SELECT DISTINCT organization_id FROM new_rows));
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        PERFORM search_index.refresh_org_tags(ARRAY(SELECT DISTINCT organization_id FROM old_rows));
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION search_index.tags_renamed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM search_index.refresh_person_tags(ARRAY(SELECT person_id FROM person_tags WHERE tag_id = NEW.id));
    PERFORM search_index.refresh_org_tags(ARRAY(SELECT organization_id FROM organization_tags WHERE tag_id = NEW.id));
    RETURN NULL;
END $$;
"""

# (table, function, events): a statement-level trigger per event, with transition tables, so that
# a bulk insert (COPY, an import) updates the index in one set-based statement. PostgreSQL allows
# transition tables only on single-event triggers without a column list, so renames use row-level
# triggers with a WHEN clause instead (they fire only when the name really changed).
_PG_WATCHED = [
    ("persons", "search_index.persons_sync", ("INSERT", "DELETE")),
    ("organizations", "search_index.orgs_sync", ("INSERT", "DELETE")),
    ("contact_points", "search_index.points_sync", ("INSERT", "UPDATE", "DELETE")),
    ("person_tags", "search_index.person_tags_sync", ("INSERT", "UPDATE", "DELETE")),
    ("organization_tags", "search_index.org_tags_sync", ("INSERT", "UPDATE", "DELETE")),
]
_PG_RENAMES = [
    ("persons", "search_index.persons_renamed", "OLD.name_key IS DISTINCT FROM NEW.name_key"),
    (
        "organizations",
        "search_index.orgs_renamed",
        "OLD.name_key IS DISTINCT FROM NEW.name_key OR OLD.brand_key IS DISTINCT FROM NEW.brand_key",
    ),
    ("tags", "search_index.tags_renamed", "OLD.name IS DISTINCT FROM NEW.name"),
]

_PG_TABLES = [
    "CREATE TABLE search_index.persons (id integer PRIMARY KEY, names text NOT NULL)",
    "CREATE TABLE search_index.orgs (id integer PRIMARY KEY, names text NOT NULL)",
    "CREATE TABLE search_index.person_words (word text NOT NULL, id integer NOT NULL)",
    "CREATE TABLE search_index.org_words (word text NOT NULL, id integer NOT NULL)",
    "CREATE TABLE search_index.person_points (id integer PRIMARY KEY, person_id integer NOT NULL, "
    "kind text NOT NULL, value text NOT NULL)",
    "CREATE TABLE search_index.org_points (id integer PRIMARY KEY, organization_id integer NOT NULL, "
    "kind text NOT NULL, value text NOT NULL)",
    "CREATE TABLE search_index.person_tags (id integer PRIMARY KEY, tags text NOT NULL)",
    "CREATE TABLE search_index.org_tags (id integer PRIMARY KEY, tags text NOT NULL)",
    "CREATE TABLE search_index.words (word text PRIMARY KEY)",
]
_PG_INDEXES = [
    "CREATE INDEX persons_names ON search_index.persons USING gin (names gin_trgm_ops)",
    "CREATE INDEX orgs_names ON search_index.orgs USING gin (names gin_trgm_ops)",
    'CREATE INDEX person_words_word ON search_index.person_words ((word COLLATE "C"), id)',
    "CREATE INDEX person_words_id ON search_index.person_words (id)",
    'CREATE INDEX org_words_word ON search_index.org_words ((word COLLATE "C"), id)',
    "CREATE INDEX org_words_id ON search_index.org_words (id)",
    "CREATE INDEX person_points_trgm ON search_index.person_points USING gin (value gin_trgm_ops)",
    'CREATE INDEX person_points_prefix ON search_index.person_points ((value COLLATE "C"))',
    "CREATE INDEX org_points_trgm ON search_index.org_points USING gin (value gin_trgm_ops)",
    'CREATE INDEX org_points_prefix ON search_index.org_points ((value COLLATE "C"))',
    "CREATE INDEX person_tags_trgm ON search_index.person_tags USING gin (tags gin_trgm_ops)",
    "CREATE INDEX org_tags_trgm ON search_index.org_tags USING gin (tags gin_trgm_ops)",
    "CREATE INDEX words_trgm ON search_index.words USING gin (word gin_trgm_ops)",
]


def _pg_trigger_name(table: str, event: str) -> str:
    return f"search_{table}_{event.split()[0].lower()}"


def pg_triggers() -> list[str]:
    """The triggers that keep the PostgreSQL index in step with the client tables."""
    refs = {
        "INSERT": "NEW TABLE AS new_rows",
        "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "DELETE": "OLD TABLE AS old_rows",
    }
    out = [
        f"CREATE TRIGGER {_pg_trigger_name(table, event)} AFTER {event} ON {table} "
        f"REFERENCING {refs[event]} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        for table, function, events in _PG_WATCHED
        for event in events
    ]
    out += [
        f"CREATE TRIGGER {_pg_trigger_name(table, 'rename')} AFTER UPDATE ON {table} "
        f"FOR EACH ROW WHEN ({condition}) EXECUTE FUNCTION {function}()"
        for table, function, condition in _PG_RENAMES
    ]
    return out


def _pg_upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    # A schema of its own: derived data, kept apart from the model tables (and from autogenerate).
    op.execute("CREATE SCHEMA search_index")
    for ddl in _PG_TABLES:
        op.execute(ddl)
    op.execute(_PG_FUNCTIONS)
    # Index the clients that exist already (an upgrade of a database in use), then build the indexes.
    op.execute("INSERT INTO search_index.persons(id, names) SELECT id, ' ' || name_key || ' ' FROM persons")
    op.execute(
        "INSERT INTO search_index.orgs(id, names) "
        "SELECT id, search_index.org_names(name_key, brand_key) FROM organizations"
    )
    op.execute(
        "INSERT INTO search_index.person_words(word, id) SELECT DISTINCT w, p.id FROM persons p, "
        "unnest(string_to_array(p.name_key, ' ')) w WHERE w <> ''"
    )
    op.execute(
        "INSERT INTO search_index.org_words(word, id) SELECT DISTINCT w, o.id FROM organizations o, "
        "unnest(string_to_array(o.name_key || ' ' || o.brand_key, ' ')) w WHERE w <> ''"
    )
    op.execute(
        "INSERT INTO search_index.person_points(id, person_id, kind, value) "
        "SELECT id, person_id, kind, search_index.point_value(kind, value) FROM contact_points "
        "WHERE person_id IS NOT NULL"
    )
    op.execute(
        "INSERT INTO search_index.org_points(id, organization_id, kind, value) "
        "SELECT id, organization_id, kind, search_index.point_value(kind, value) FROM contact_points "
        "WHERE organization_id IS NOT NULL"
    )
    op.execute("SELECT search_index.refresh_person_tags(ARRAY(SELECT DISTINCT person_id FROM person_tags))")
    op.execute("SELECT search_index.refresh_org_tags(ARRAY(SELECT DISTINCT organization_id FROM organization_tags))")
    op.execute(
        "SELECT search_index.add_words(ARRAY(SELECT name_key FROM persons UNION SELECT name_key FROM organizations "
        "UNION SELECT brand_key FROM organizations))"
    )
    for ddl in _PG_INDEXES:
        op.execute(ddl)
    for ddl in pg_triggers():
        op.execute(ddl)


def _pg_downgrade() -> None:
    for table, _function, events in _PG_WATCHED:
        for event in events:
            op.execute(f"DROP TRIGGER IF EXISTS {_pg_trigger_name(table, event)} ON {table}")
    for table, _function, _condition in _PG_RENAMES:
        op.execute(f"DROP TRIGGER IF EXISTS {_pg_trigger_name(table, 'rename')} ON {table}")
    op.execute("DROP SCHEMA IF EXISTS search_index CASCADE")
    # pg_trgm stays: other objects may use it, and it costs nothing.


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _pg_upgrade()
    else:
        _sqlite_upgrade()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _pg_downgrade()
    else:
        _sqlite_downgrade()
