"""Pages: the query (page, limit/per_page) and the v1 and v2 list envelopes."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from reference_server.config import Settings
from reference_server.seams import seam
from reference_server.validation import query_int

MAX_PAGE_SIZE = 100
V1_DEFAULT_PER_PAGE = 25
V2_DEFAULT_LIMIT = 25  # not part of the contract (the `default-page-size-7` variant varies it)
MAX_INT32 = 2**31 - 1  # room "page-range": a page beyond it may be refused or be past the end


@dataclass(frozen=True)
class PageRequest:
    page: int
    size: int
    offset: int  # of the page's first item

    @classmethod
    def of(cls, page: int, size: int) -> PageRequest:
        return cls(page, size, (page - 1) * size)


@seam("page")
def page_request(request: Request, size_param: str, default_size: int) -> PageRequest:
    """?page= (from 1; a page past the end is valid) and the page size, 1..100."""
    page = query_int(request, "page", 1, 1)
    return PageRequest.of(page, query_int(request, size_param, default_size, 1, MAX_PAGE_SIZE))


def total_pages(total: int, size: int) -> int:
    return max(1, math.ceil(total / size))


@seam("page link")
def page_link(request: Request, number: int, rel: str) -> str:
    """The URL of page `number` (the `rel` "next" or "previous" page): absolute on the
    request's own origin, the rest of the query as the client sent it."""
    return str(request.url.include_query_params(page=number))


def _neighbours(request: Request, page: int, pages: int) -> tuple[str | None, str | None]:
    """URLs of the next and previous pages (past the end, previous is the last page)."""
    following = page_link(request, page + 1, "next") if page < pages else None
    previous = page_link(request, min(page - 1, pages), "previous") if page > 1 else None
    return following, previous


@seam("v2 envelope")
def v2_list(request: Request, settings: Settings, data: list[Any], total: int,
            req: PageRequest) -> dict[str, Any]:
    pages = total_pages(total, req.size)
    links: dict[str, str | None] | None = None
    if pages > 1:
        following, previous = _neighbours(request, req.page, pages)
        links = {"next": following, "previous": previous}
    return {"object": "paginated_list", "data": data, "total": total, "count": len(data),
            "limit": req.size, "current_page": req.page, "total_pages": pages, "links": links}


@seam("v1 envelope")
def v1_list(request: Request, settings: Settings, data: list[Any], total: int,
            req: PageRequest) -> dict[str, Any]:
    pages = total_pages(total, req.size)
    links: dict[str, str] | list[Any] = []
    if pages > 1:
        following, previous = _neighbours(request, req.page, pages)
        links = {k: v for k, v in (("next", following), ("previous", previous)) if v}
    pagination = {"total": total, "count": len(data), "per_page": req.size,
                  "current_page": req.page, "total_pages": pages, "links": links}
    return {"data": data, "meta": {"pagination": pagination}}
