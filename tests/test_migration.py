"""The migration guide is generated from the specs: its facts come from them, a changed
spec changes it, and the committed docs/migration-guide.md is what the specs generate."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from spec_tools import migration
from spec_tools.migration import generate_files, v2_path
from spec_tools.spec_model import Field

ROOT = Path(__file__).resolve().parent.parent
V1, V2 = str(ROOT / "spec/v1.yaml"), str(ROOT / "spec/v2.yaml")


@pytest.fixture(scope="module")
def guide() -> str:
    return generate_files(V1, V2)


def section(guide: str, title_start: str) -> str:
    start = guide.index(f"## {title_start}")
    end = guide.find("\n## ", start + 1)
    return guide[start:end if end > 0 else None]


def test_the_committed_guide_is_up_to_date(guide: str) -> None:
    committed = (ROOT / "docs/migration-guide.md").read_text(encoding="utf-8")
    assert committed == guide, "docs/migration-guide.md is stale: run `make migration-guide`"


@pytest.mark.parametrize(("title", "expected"), [
    ("Delete existing webhook", "- Success status: 200 → 204"),
    ("Delete existing webhook", "- The success response now has no body."),
    ("Update existing webhook", "- Method: PUT → PATCH"),
    ("Update existing webhook", "- `url` is now optional"),
    ("Add a new webhook", "- Renamed: `active` → `is_enabled`"),
    ("Add a new webhook", "- Type changed: `events`: string → array of string"),
    ("Add a new webhook", "- `is_enabled` is now optional"),
    ("Add a new webhook", "- Added: `uuid` (string, required)"),
    ("List all webhooks", "- Added: `enabled` (boolean, optional)"),
    ("List all webhooks", "- Renamed: `per_page` → `limit`"),
    ("List all webhooks", "- Renamed: `meta.pagination.per_page` → `limit`"),
    ("List all webhooks", "- Added: `object` (string, always `\"paginated_list\"`, required)"),
    ("List all webhooks", "- Removed: `meta` (its fields moved, see above)"),
    ("List webhook deliveries", "- Renamed: `data[].last_delivered_at` → `data[].last_sent_at`"),
    ("List webhook deliveries", "- Removed: `data[].status`"),
    ("List webhook deliveries", "- Removed: `data[].failed`"),
    ("List webhook deliveries", "- Renamed: `data[].request.headers.Request URL` → "
                                "`data[].request.url`"),
    ("New in v2", "- `GET /webhooks/{id}`: Retrieve a webhook (`getWebhook`)"),
])
def test_the_guide_states_each_change_of_the_specs(guide: str, title: str, expected: str) -> None:
    assert expected in section(guide, title)


def test_each_section_has_both_rows(guide: str) -> None:
    part = section(guide, "List webhook deliveries")
    assert "| v1 | GET | https://id.amiqus.co/api/webhooks/{id}/deliveries |" in part
    assert "| v2 | GET | https://id.amiqus.co/api/v2/webhooks/{id}/deliveries |" in part


def _modified_copy(tmp_path: Path, change: callable) -> str:  # type: ignore[valid-type]
    spec = yaml.safe_load(Path(V2).read_text(encoding="utf-8"))
    change(spec)
    path = tmp_path / "v2.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return str(path)


def test_changing_a_status_in_the_spec_changes_the_guide(tmp_path: Path, guide: str) -> None:
    def delete_answers_200(spec: dict) -> None:
        responses = spec["paths"]["/webhooks/{id}"]["delete"]["responses"]
        responses["202"] = responses.pop("204")

    changed = generate_files(V1, _modified_copy(tmp_path, delete_answers_200))
    assert "- Success status: 200 → 202" in section(changed, "Delete existing webhook")
    assert "200 → 204" not in changed and "200 → 204" in guide


def test_renaming_a_field_in_the_spec_changes_the_guide(tmp_path: Path) -> None:
    def rename_is_enabled(spec: dict) -> None:
        for name in ("Webhook", "WebhookCreate", "WebhookUpdate"):
            props = spec["components"]["schemas"][name]["properties"]
            props["enabled"] = props.pop("is_enabled")

    changed = generate_files(V1, _modified_copy(tmp_path, rename_is_enabled))
    part = section(changed, "Add a new webhook").split("### Examples")[0]
    assert "- Removed: `active`" in part and "- Added: `enabled` (boolean, optional)" in part
    assert "is_enabled" not in part


def test_a_new_query_parameter_appears(tmp_path: Path) -> None:
    def add_sort(spec: dict) -> None:
        spec["paths"]["/webhooks"]["get"]["parameters"].append(
            {"name": "sort", "in": "query", "schema": {"type": "string"}})

    changed = generate_files(V1, _modified_copy(tmp_path, add_sort))
    assert "- Added: `sort` (string, optional)" in section(changed, "List all webhooks")


def test_x_v2_name_paths_are_relative_to_the_parent() -> None:
    fields = {
        "meta": Field("meta", {}, True),
        "meta.pagination": Field("meta.pagination", {"x-v2-name": "../"}, True),
        "meta.pagination.per_page": Field("meta.pagination.per_page",
                                          {"x-v2-name": "limit"}, True),
        "request.headers.Request URL": Field("request.headers.Request URL",
                                             {"x-v2-name": "../url"}, True),
    }
    assert v2_path("meta.pagination", fields) == ""
    assert v2_path("meta.pagination.total", fields) == "total"
    assert v2_path("meta.pagination.per_page", fields) == "limit"
    assert v2_path("request.headers.Request URL", fields) == "request.url"
    assert v2_path("data[].id", fields) == "data[].id"


def test_check_mode_reports_a_stale_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "guide.md"
    out.write_text("old\n", encoding="utf-8")
    assert migration.main(["--check", V1, V2, str(out)]) == 1
    assert "out of date" in capsys.readouterr().out
    assert migration.main([V1, V2, str(out)]) == 0
    assert migration.main(["--check", V1, V2, str(out)]) == 0


def test_an_unreadable_spec_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    broken = tmp_path / "v2.yaml"
    broken.write_text("openapi: [unclosed\n", encoding="utf-8")
    assert migration.main([V1, str(broken), str(tmp_path / "out.md")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "cannot read spec" in err
