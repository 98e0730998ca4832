"""The ranked search: tiers from the most to the least exact, each asked only while places are left.

Instant search asks on every key press, so the work for one query has to be bounded whatever
the text, and the best matches have to come first. Both follow from asking in tiers:

0. exact: the whole name (or brand) equals the text, the phone in E.164, the e-mail;
1. words: every word typed is a whole word of the name; or the text is a tag;
2. prefixes: every word typed starts a word of the name (of several words, those before the last
   that the vocabulary knows are taken as finished, whole words); the e-mail starts with the
   text; the phone contains the digits typed (8 495... read as +7 495... too; for a partly typed
   number only: a whole one was looked up in tier 0); a tag starts with it;
3. company: the people working in the organizations the text names (whole name or whole words);
4. substrings: every word typed occurs inside the name (not asked for several words that are all
   known words), or inside an e-mail;
5. typos: a word typed is replaced by the known words one or two edits away (in a query of
   several words, only the words the vocabulary does not know); then the people of the
   organizations found that way.

Each tier asks the index for at most the places still free (rows already found are excluded in
the query), so a common prefix ("Ив") fills the page in the prefix tier from the first rows of
the index, and the later tiers (which cost more) only run for rare text. Within a tier, names
starting with the text come first, then shorter names; organizations before persons.

Rights are part of every query (``Scope``: the actor's teams, merged-away records left out),
not a filter on the results, so a staff member's page is as full as an admin's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, literal, or_, select, union_all
from sqlalchemy.orm import Session

from core.models import ContactPoint, Employment, Organization, Person, PointKind
from core.search import patterns
from core.search.backend import KINDS, Ask, Kind, Row, Scope, SearchBackend, backend_for
from core.search.query import ParsedQuery
from core.search.typos import corrections

EXACT, WORDS, PREFIXES, COMPANY, SUBSTRINGS, TYPOS = range(6)
COMPANY_ORGS = 5
MODELS: dict[Kind, type[Organization] | type[Person]] = {"organization": Organization, "person": Person}


@dataclass(frozen=True)
class Found:
    """A client found, the tier that found it and the index column that matched."""

    kind: Kind
    id: int
    tier: int
    via: str = "names"


@dataclass
class Search:
    """One search in progress: what was asked, where, and what was found so far."""

    session: Session
    backend: SearchBackend
    query: ParsedQuery
    kinds: tuple[Kind, ...]
    scope: Scope
    limit: int
    found: list[Found] = field(default_factory=list)
    _known: set[str] | None = None

    @property
    def need(self) -> int:
        """How many places are still free."""
        return self.limit - len(self.found)

    def known(self) -> set[str]:
        """The words typed that the vocabulary knows (asked once)."""
        if self._known is None:
            self._known = self.backend.known_words(self.session, list(self.query.tokens))
        return self._known

    def ids(self, kind: Kind) -> list[int]:
        """The ids of ``kind`` found so far."""
        return [f.id for f in self.found if f.kind == kind]

    def add(self, tier: int, rows: dict[Kind, list[Row]], *, keep_order: bool = False) -> None:
        """Add a tier's rows: names starting with the text (or its first word) first, then shorter ones."""
        key, first = self.query.key, (self.query.tokens or ("",))[0]
        flat = [(kind, row) for kind in KINDS for row in rows.get(kind, [])]
        if not keep_order:
            flat.sort(
                key=lambda kr: (
                    not kr[1].name_key.startswith(key),
                    not kr[1].name_key.startswith(first),
                    len(kr[1].name_key),
                    kr[0],
                    kr[1].id,
                )
            )
        seen = {(f.kind, f.id) for f in self.found}
        for kind, row in flat:
            if self.need <= 0:
                break
            if (kind, row.id) not in seen:
                seen.add((kind, row.id))
                self.found.append(Found(kind, row.id, tier, row.via))

    def ask(self, tier: int, clauses: Callable[[Kind], list[patterns.Clause]]) -> None:
        """Run one tier of index clauses for every kind, in one round trip (two for several words).

        A names clause of several words is asked first, for twice the places, and its rows checked
        word by word (``Clause.accepts``); the other clauses fill what is left.
        """
        wanted = {kind: [c for c in clauses(kind) if c.usable] for kind in self.kinds}
        got: dict[Kind, list[Row]] = {kind: [] for kind in self.kinds}
        strict = {kind: c for kind, cs in wanted.items() for c in cs if c.needs_distinct_words}
        if strict:
            asks = [Ask(kind, [c], self.ids(kind), 2 * self.need) for kind, c in strict.items()]
            for kind, rows in self.backend.match(self.session, asks, self.scope).items():
                got[kind] = [r for r in rows if strict[kind].accepts(r.name_key)][: self.need]
        asks = [
            Ask(kind, loose, self.ids(kind) + [r.id for r in got[kind]], self.need - len(got[kind]))
            for kind, cs in wanted.items()
            if (loose := [c for c in cs if not c.needs_distinct_words])
        ]
        if asks:
            for kind, rows in self.backend.match(self.session, asks, self.scope).items():
                got[kind] += rows
        self.add(tier, got)

    def union(self, tier: int, selects: list[tuple[Kind, str, Select[Any]]]) -> None:
        """Run plain selects of (id, name_key), one per kind and condition, in one round trip."""
        if not selects:
            return
        parts = [
            select(literal(kind).label("kind"), literal(via).label("via"), sub.c.id, sub.c.name_key).select_from(sub)
            for kind, via, stmt in selects
            for sub in [stmt.limit(self.need).subquery()]
        ]
        rows: dict[Kind, list[Row]] = {kind: [] for kind in self.kinds}
        for kind, via, row_id, key in self.session.execute(union_all(*parts)):
            rows[kind].append(Row(row_id, key, via))
        self.add(tier, rows)


def _scoped(stmt: Select[Any], model: Any, scope: Scope, exclude: list[int]) -> Select[Any]:
    if scope.team_ids is not None:
        stmt = stmt.where(model.team_id.in_(scope.team_ids))
    if scope.live_only:
        stmt = stmt.where(model.merged_into_id.is_(None))
    if exclude:
        stmt = stmt.where(model.id.not_in(exclude))
    return stmt


def _names_or_tags(q: ParsedQuery) -> bool:
    return bool(q.tokens) and not q.is_phone and not q.is_email


def _exact(s: Search) -> None:
    q = s.query
    selects: list[tuple[Kind, str, Select[Any]]] = []
    for kind in s.kinds:
        model = MODELS[kind]
        owner = ContactPoint.organization_id if kind == "organization" else ContactPoint.person_id
        conds = []
        if q.e164:
            conds.append((ContactPoint.kind == PointKind.phone) & (ContactPoint.value == q.e164))
        if q.is_email:
            conds.append((ContactPoint.kind == PointKind.email) & (ContactPoint.value == q.email))
        elif q.email and "." in q.email:
            conds.append((ContactPoint.kind == PointKind.domain) & (ContactPoint.value == q.email))
        if conds:
            stmt = select(model.id, model.name_key).join(ContactPoint, owner == model.id).where(or_(*conds))
            selects.append((kind, "points", _scoped(stmt, model, s.scope, [])))
        if _names_or_tags(q):
            same = [model.name_key == q.key]
            if model is Organization:
                same.append(Organization.brand_key == q.key)
            named = _scoped(select(model.id, model.name_key).where(or_(*same)), model, s.scope, [])
            selects.append((kind, "names", named))
    s.union(EXACT, selects)


def _words(s: Search) -> None:
    q = s.query
    if not _names_or_tags(q):
        return
    s.ask(WORDS, lambda kind: [patterns.words(q.tokens), patterns.single("tags", f"| {q.tag} |")])


def _prefixes(s: Search) -> None:
    q = s.query
    names = None
    if _names_or_tags(q):
        names = patterns.word_prefixes(q.tokens)
        if len(q.tokens) > 1:
            # Words are typed left to right: a known word before the last one is finished, taken
            # whole; only the last word (and unknown ones) may be the start of a longer word.
            known = s.known()
            names = patterns.Clause(
                "names", tuple((f" {t} " if t in known else f" {t}",) for t in q.tokens[:-1]) + ((f" {q.tokens[-1]}",),)
            )

    def clauses(kind: Kind) -> list[patterns.Clause]:
        out = []
        if names is not None:
            out.append(names)
            if len(q.tag) >= 2:
                out.append(patterns.single("tags", f"| {q.tag}"))
        if q.email:
            out.append(patterns.single("emails", f" {q.email}"))
        if q.digit_runs and not q.whole_phone:
            # A whole number was looked up exactly (tier 0); digits inside phones are for partial ones.
            out.append(patterns.Clause("phones", (q.digit_runs,)))
        return out

    s.ask(PREFIXES, clauses)


def _company(s: Search) -> None:
    """The people of the organizations the text names (whole name or whole words), in that order."""
    if "person" not in s.kinds or not _names_or_tags(s.query):
        return
    if "organization" in s.kinds:
        named = (f for f in s.found if f.kind == "organization" and f.tier in (EXACT, WORDS) and f.via == "names")
        org_ids = [f.id for f in named][:COMPANY_ORGS]
    else:
        ask = Ask("organization", [patterns.words(s.query.tokens)], [], COMPANY_ORGS)
        rows = s.backend.match(s.session, [ask], s.scope).get("organization", [])
        org_ids = [r.id for r in sorted(rows, key=lambda r: (r.name_key != s.query.key, len(r.name_key), r.id))]
    _people_of(s, org_ids)


def _people_of(s: Search, org_ids: list[int]) -> None:
    """The people working in ``org_ids``, in the order of the organizations."""
    if "person" not in s.kinds or s.need <= 0 or not org_ids:
        return
    stmt = select(Person.id, Person.name_key, Employment.organization_id).join(
        Employment, Employment.person_id == Person.id
    )
    stmt = _scoped(stmt.where(Employment.organization_id.in_(org_ids)), Person, s.scope, s.ids("person"))
    rank = {org_id: n for n, org_id in enumerate(org_ids)}
    people = sorted(s.session.execute(stmt.limit(s.need)), key=lambda r: (rank[r[2]], len(r[1]), r[0]))
    s.add(COMPANY, {"person": [Row(i, k) for i, k, _ in people]}, keep_order=True)


def _substrings(s: Search) -> None:
    q = s.query

    # Several words the vocabulary all knows ("Иван Петров") mean those words, not pieces of others;
    # and their trigrams are the commonest there are, so the question would cost the most.
    names = _names_or_tags(q) and any(len(t) >= patterns.MIN_INDEXED for t in q.tokens)
    if names and len(q.tokens) > 1 and s.known() >= set(q.tokens):
        names = False

    def clauses(kind: Kind) -> list[patterns.Clause]:
        out = []
        if names:
            out.append(patterns.substrings(q.tokens))
        if q.email and len(q.email) >= patterns.MIN_INDEXED:
            out.append(patterns.single("emails", q.email))
        return out

    s.ask(SUBSTRINGS, clauses)


def _typos(s: Search) -> None:
    q = s.query
    if not _names_or_tags(q):
        return
    if len(q.tokens) == 1:
        # One word: its neighbours one after the other, the likeliest first, so that a common word
        # one edit away (Петр for Петрв) cannot crowd out the likelier one (Петров). A known word
        # has neighbours too: the misspelt cards of the client base (Кузнецев for Кузнецов).
        for word in corrections(s.session, s.backend, q.tokens[0]):
            if s.need > 0:
                s.ask(TYPOS, lambda kind, word=word: [patterns.words((word,))])
    else:
        # Several words: only the unknown ones are corrected (to any of their neighbours, or kept as
        # the start of a word, it may be unfinished); a known word stays a whole word as typed.
        known = s.known()
        fixes = {t: corrections(s.session, s.backend, t) for t in q.tokens if t not in known}
        if not any(fixes.values()):
            return
        groups = tuple((f" {t} ",) if t in known else (f" {t}", *(f" {w} " for w in fixes[t])) for t in q.tokens)
        s.ask(TYPOS, lambda kind: [patterns.choices("names", list(groups))])
    _people_of(s, [f.id for f in s.found if f.kind == "organization" and f.tier == TYPOS][:COMPANY_ORGS])


def find(
    session: Session, query: ParsedQuery, *, kinds: tuple[Kind, ...] = KINDS, scope: Scope, limit: int
) -> list[Found]:
    """The clients matching ``query``, best first, at most ``limit``."""
    s = Search(session, backend_for(session), query, kinds, scope, limit)
    if limit <= 0 or scope.empty or not query.text:
        return []
    steps: list[Callable[[Search], None]] = [_exact, _words, _prefixes, _company, _substrings, _typos]
    for step in steps:
        if s.need <= 0:
            break
        step(s)
    return s.found
