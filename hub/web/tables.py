"""Lists in pages: pagination, sorting by column headers, and links that keep the other filters.

``ListState`` is read from the query string (``page``, ``per``, ``sort``) and builds the links
of the pager and of the sortable headers, keeping every other parameter (the search text and
the filters), so the same URL works when bookmarked, reloaded or fetched by htmx. The macros
in ``templates/_tables.html`` draw them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from fastapi import Request

from hub.web.pages import PublicPage, is_htmx

PER_PAGE_CHOICES = (25, 50, 100)


def query_url(path: str, params: Iterable[tuple[str, str]], **changes: str | int | None) -> str:
    """``path`` with the query ``params``, some changed (None or "" removes a parameter)."""
    kept = [(k, v) for k, v in params if k not in changes and v != ""]
    for key, value in changes.items():
        if value is not None and value != "":
            kept.append((key, str(value)))
    return path + ("?" + urlencode(kept) if kept else "")


@dataclass
class ListState:
    """Page, page size and sort of a list, as the query string gives them."""

    path: str
    params: list[tuple[str, str]] = field(default_factory=list)
    page: int = 1
    per_page: int = PER_PAGE_CHOICES[0]
    sort: str = ""
    total: int = 0

    @classmethod
    def from_request(cls, request: Request, *, default_sort: str, sorts: Iterable[str]) -> ListState:
        """Read ``page``, ``per`` and ``sort`` (unknown values fall back to the defaults)."""
        q = request.query_params
        try:
            page = max(1, min(int(q.get("page", "1")), 100_000))
        except ValueError:
            page = 1
        try:
            per = int(q.get("per", str(PER_PAGE_CHOICES[0])))
        except ValueError:
            per = PER_PAGE_CHOICES[0]
        sort = q.get("sort", default_sort)
        if sort.lstrip("-") not in set(sorts):
            sort = default_sort
        return cls(
            path=request.url.path,
            params=[(k, v) for k, v in q.multi_items() if k != "partial"],
            page=page,
            per_page=per if per in PER_PAGE_CHOICES else PER_PAGE_CHOICES[0],
            sort=sort,
        )

    @property
    def offset(self) -> int:
        """How many rows come before this page."""
        return (self.page - 1) * self.per_page

    @property
    def pages(self) -> int:
        """How many pages there are (at least one)."""
        return max(1, -(-self.total // self.per_page))

    @property
    def first(self) -> int:
        """The number of the first row shown (1-based; 0 when the list is empty)."""
        return 0 if self.total == 0 else self.offset + 1

    @property
    def last(self) -> int:
        """The number of the last row shown."""
        return min(self.total, self.offset + self.per_page)

    def url(self, **changes: str | int | None) -> str:
        """This list's URL with some parameters changed."""
        return query_url(self.path, self.params, **changes)

    def page_url(self, page: int) -> str:
        """The URL of another page of the list."""
        return self.url(page=page if page > 1 else None)

    def sort_url(self, key: str) -> str:
        """The URL sorting by ``key``: ascending first, descending on a second click."""
        new = f"-{key}" if self.sort == key else key
        return self.url(sort=new, page=None)

    def sort_state(self, key: str) -> str:
        """``ascending``, ``descending`` or ``none``, for the header's aria-sort."""
        if self.sort == key:
            return "ascending"
        if self.sort == f"-{key}":
            return "descending"
        return "none"

    def page_numbers(self) -> list[int | None]:
        """The page numbers to link, with None for a gap (1 … 4 5 6 … 20)."""
        last, cur = self.pages, self.page
        wanted = sorted({1, last, cur - 1, cur, cur + 1} & set(range(1, last + 1)))
        out: list[int | None] = []
        for n in wanted:
            if out and out[-1] is not None and n - out[-1] > 1:  # type: ignore[operator]
                out.append(None)
            out.append(n)
        return out


def clean_push_url(page: PublicPage, state: ListState) -> dict[str, str] | None:
    """For an htmx list update: the address to show, without the empty filter fields a form sends."""
    if is_htmx(page.request) and page.request.headers.get("hx-target") == "results":
        return {"HX-Push-Url": state.url()}
    return None
