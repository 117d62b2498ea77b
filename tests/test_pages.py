"""Pagination links in any allowed form (Room "links-form"), and walks over a big team."""

from __future__ import annotations

from typing import Any

import pytest

from contract_suite.curated.pages import link_points_at, page_problems, walk

QUERY = {"limit": 2, "enabled": True}


@pytest.mark.parametrize("link", [
    "http://127.0.0.1:8000/api/v2/webhooks?page=2&limit=2&enabled=true",
    "https://api.internal.invalid/api/v2/webhooks?enabled=true&limit=2&page=2",
    "/api/v2/webhooks?limit=2&page=2&enabled=1",
    "?enabled=true&page=2&limit=2",
    "webhooks?page=2&limit=2&enabled=TRUE&colour=blue",
])
def test_a_link_is_judged_by_path_and_parameters_in_any_form(link: str) -> None:
    assert link_points_at(link, {**QUERY, "page": 2}, "/api/v2/webhooks")


@pytest.mark.parametrize("link", [
    "/api/v2/webhooks?page=3&limit=2&enabled=true",  # wrong page
    "/api/v2/webhooks?page=2&enabled=true",  # lost limit
    "/api/v2/webhooks?page=2&limit=2&enabled=false",  # changed the filter
    "/api/v2/webhooks?page=2&page=3&limit=2&enabled=true",  # two pages
    "/api/webhooks?page=2&limit=2&enabled=true",  # another list
    "/api/v2/webhooks/7/deliveries?page=2&limit=2&enabled=true",
    "", None, 2,
])
def test_a_link_to_another_page_path_or_query_is_refused(link: Any) -> None:
    assert not link_points_at(link, {**QUERY, "page": 2}, "/api/v2/webhooks")


def v2_page(page: int, pages: int, links: Any, size: int = 2) -> dict[str, Any]:
    return {"object": "paginated_list", "data": [{"id": page * 10}, {"id": page * 10 + 1}],
            "total": pages * size, "count": 2, "limit": size, "current_page": page,
            "total_pages": pages, "links": links}


def test_relative_and_other_host_links_make_a_consistent_page() -> None:
    links = {"next": "/api/v2/webhooks?limit=2&page=3",
             "previous": "https://elsewhere.invalid/api/v2/webhooks?page=1&limit=2"}
    assert page_problems(v2_page(2, 3, links), {"limit": 2, "page": 2}, "/api/v2/webhooks") == []
    wrong_path = {**links, "next": "/api/v2/hooks?limit=2&page=3"}
    problems = page_problems(v2_page(2, 3, wrong_path), {"limit": 2, "page": 2},
                             "/api/v2/webhooks")
    assert [problem.path for problem in problems] == ["$.links.next"]


def test_links_need_not_keep_unknown_query_parameters() -> None:
    links = {"next": "/api/v2/webhooks?limit=2&page=2", "previous": None}
    assert page_problems(v2_page(1, 2, links), {"limit": 2, "colour": "blue"},
                         "/api/v2/webhooks") == []


def test_a_walk_over_a_big_team_reaches_the_last_page_and_stays_bounded() -> None:
    pages = 66  # 130 pre-existing webhooks and ours, two a page
    fetched: list[int] = []

    def fetch(page: int) -> Any:
        fetched.append(page)
        return v2_page(page, pages, None)

    result = walk(fetch, max_pages=1000)
    assert result.pages == pages and fetched == list(range(1, pages + 1))
    with pytest.raises(OverflowError):
        walk(fetch, max_pages=10)
