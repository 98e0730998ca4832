"""The global client search: the box at the top of every page (``/`` focuses it)."""

from __future__ import annotations

from fastapi import Query
from fastapi.responses import Response

from core.search import search_clients
from hub.web.pages import Page, web_router

router = web_router()


@router.get("/search")
def search(page: Page, q: str = Query("", max_length=200)) -> Response:
    """Organizations and persons matching a name, phone (any format), e-mail, company or tag."""
    hits = search_clients(page.session, actor=page.actor, q=q, limit=20) if q.strip() else []
    return page.render("search.html", partials={"search-hits": "_search_hits.html"}, q=q, hits=hits)
