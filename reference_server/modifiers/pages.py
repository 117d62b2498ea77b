"""Pagination: the page asked for, the list envelopes, their links; list order."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.requests import Request

from reference_server.config import Settings
from reference_server.pagination import (
    MAX_INT32,
    MAX_PAGE_SIZE,
    V1_DEFAULT_PER_PAGE,
    PageRequest,
    total_pages,
)
from reference_server.responses import ApiError, invalid, route_not_found
from reference_server.seams import fault, operation_of, variant
from reference_server.validation import query_int
from reference_server.webhooks import DeliveryQuery, WebhookQuery

OTHER_HOST = "https://api.internal.invalid"  # `other-host-links`: reserved, never resolves

# -- the page asked for -------------------------------------------------------------------

@fault("pagination-off-by-one").after("page")
def _one_item_early(page: PageRequest, *_: Any) -> PageRequest:
    return replace(page, offset=max(0, page.offset - 1))


@fault("v1-per-page-ignored").after("page")
def _per_page_ignored(page: PageRequest, request: Request, *_: Any) -> PageRequest:
    if operation_of(request) != "v1 list":
        return page
    return PageRequest.of(page.page, V1_DEFAULT_PER_PAGE)


@fault("v2-limit-out-of-range-accepted").around("page")
def _limit_clamped(proceed: Any, request: Request, size_param: str, default_size: int
                   ) -> PageRequest:
    try:
        return proceed(request, size_param, default_size)
    except ApiError as error:
        if size_param != "limit" or set(error.body) != {"limit"}:
            raise
        size = query_int(request, "limit", default_size, 0)  # still an integer: any size
        return PageRequest.of(query_int(request, "page", 1, 1), min(max(size, 1),
                                                                    MAX_PAGE_SIZE))


@variant("default-page-size-7").around("page")
def _seven_a_page(proceed: Any, request: Request, size_param: str, default_size: int
                  ) -> PageRequest:
    return proceed(request, size_param, 7 if size_param == "limit" else default_size)


@variant("page-beyond-int32-refused").around("page")
def _refuse_huge_page(proceed: Any, request: Request, size_param: str, default_size: int
                      ) -> PageRequest:
    if query_int(request, "page", 1, 1) > MAX_INT32:
        raise invalid({"page": [f"The page must not be greater than {MAX_INT32}."]})
    return proceed(request, size_param, default_size)


# -- envelopes ----------------------------------------------------------------------------

@fault("v2-page-past-end-404").around("v2 envelope")
def _past_the_end_404(proceed: Any, request: Request, settings: Settings, data: list[Any],
                      total: int, req: PageRequest) -> dict[str, Any]:
    if req.page > total_pages(total, req.size):
        raise route_not_found()
    return proceed(request, settings, data, total, req)


@fault("v2-links-not-null-on-single-page").after("v2 envelope")
def _null_links_object(body: dict[str, Any], *_: Any) -> dict[str, Any]:
    if body["links"] is None:
        body["links"] = {"next": None, "previous": None}
    return body


@fault("v2-count-is-total").after("v2 envelope")
def _count_is_total(body: dict[str, Any], *_: Any) -> dict[str, Any]:
    body["count"] = body["total"]
    return body


@fault("v1-links-object-on-single-page").after("v1 envelope")
def _empty_links_object(body: dict[str, Any], *_: Any) -> dict[str, Any]:
    pagination = body["meta"]["pagination"]
    if pagination["links"] == []:
        pagination["links"] = {}
    return body


@fault("v1-total-pages-off-by-one").after("v1 envelope")
def _one_page_too_many(body: dict[str, Any], *_: Any) -> dict[str, Any]:
    body["meta"]["pagination"]["total_pages"] += 1
    return body


# -- links --------------------------------------------------------------------------------

@fault("v2-links-drop-query").around("page link")
def _only_the_page(proceed: Any, request: Request, number: int, rel: str) -> str:
    if (operation_of(request) or "").startswith("v2 "):
        return str(request.url.replace(query=f"page={number}"))
    return proceed(request, number, rel)


@fault("links-next-same-page").around("page link")
def _next_is_this_page(proceed: Any, request: Request, number: int, rel: str) -> str:
    return proceed(request, number - 1 if rel == "next" else number, rel)


def _path_and_reordered_query(link: str) -> str:
    parts = urlsplit(link)
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True), reverse=True))
    return f"{parts.path}?{query}"


@variant("relative-links").after("page link")
def _relative(link: str, *_: Any) -> str:
    """Room "links-form": links may be relative, their query in any order."""
    return _path_and_reordered_query(link)


@variant("other-host-links").after("page link")
def _other_host(link: str, *_: Any) -> str:
    """Room "links-form": links may be on another host name, their query in any order."""
    return OTHER_HOST + _path_and_reordered_query(link)


# -- list order and filters ---------------------------------------------------------------

@fault("list-order-descending").around("webhook list")
def _descending(proceed: Any, request: Request, query: WebhookQuery) -> Any:
    return proceed(request, replace(query, descending=True))


@fault("enabled-filter-ignored").around("webhook list")
def _unfiltered(proceed: Any, request: Request, query: WebhookQuery) -> Any:
    return proceed(request, replace(query, enabled=None))


@fault("delivery-log-oldest-first").around("delivery list")
def _oldest_first(proceed: Any, request: Request, query: DeliveryQuery) -> Any:
    return proceed(request, replace(query, newest_first=False))
