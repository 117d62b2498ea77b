"""Breaking-change diff: one toy spec pair per kind of break, safe changes pass, and the
git-ref mode in a throwaway repository."""

from __future__ import annotations

import copy
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from spec_tools import spec_diff
from spec_tools.spec_diff import diff_specs
from spec_tools.spec_model import resolve_refs

BASE: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "toy", "version": "1"},
    "paths": {
        "/things": {
            "get": {
                "operationId": "listThings",
                "parameters": [
                    {"name": "limit", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
                    {"name": "colour", "in": "query",
                     "schema": {"type": "string", "enum": ["red", "blue"]}},
                ],
                "responses": {"200": {"description": "ok", "content": {"application/json": {
                    "schema": {"type": "object", "required": ["data"], "properties": {
                        "data": {"type": "array", "items": {"$ref": "#/components/schemas/Thing"}},
                    }}}}}},
            },
            "post": {
                "operationId": "createThing",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["name"], "properties": {
                        "name": {"type": "string", "maxLength": 50},
                        "kind": {"type": ["string", "integer"], "enum": ["a", "b", 1]},
                        "note": {"type": "string"},
                    }}}}},
                "responses": {"201": {"description": "made", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Thing"}}}}},
            },
        },
        "/things/{id}": {
            "delete": {"operationId": "deleteThing",
                       "parameters": [{"name": "id", "in": "path", "required": True,
                                       "schema": {"type": "integer"}}],
                       "responses": {"204": {"description": "gone"}}},
        },
    },
    "components": {"schemas": {"Thing": {
        "type": "object", "required": ["id", "name", "tags"], "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "owner": {"type": "object", "properties": {"email": {"type": "string"}}},
        }}}},
}

Change = Callable[[dict[str, Any]], None]


def breaks_after(change: Change) -> list[str]:
    new = copy.deepcopy(BASE)
    change(new)
    return [str(b) for b in diff_specs(resolve_refs(BASE), resolve_refs(new), "toy.yaml")]


def _post_props(spec: dict[str, Any]) -> dict[str, Any]:
    body = spec["paths"]["/things"]["post"]["requestBody"]["content"]["application/json"]
    return body["schema"]["properties"]


def _thing(spec: dict[str, Any]) -> dict[str, Any]:
    return spec["components"]["schemas"]["Thing"]


BREAKS: list[tuple[str, Change, str]] = [
    ("operation removed", lambda s: s["paths"]["/things/{id}"].pop("delete"),
     "toy.yaml#/paths/~1things~1{id}/delete: operation removed: DELETE /things/{id} "
     "(deleteThing)"),
    ("response field removed", lambda s: _thing(s)["properties"].pop("name"),
     "toy.yaml#/paths/~1things/get/responses/200: response field 'data[].name' removed"),
    ("nested field removed (once, not per child)", lambda s: _thing(s)["properties"].pop("owner"),
     "toy.yaml#/paths/~1things/post/responses/201: response field 'owner' removed"),
    ("response field made optional", lambda s: _thing(s)["required"].remove("tags"),
     "response field 'tags' is no longer required"),
    ("response type changed", lambda s: _thing(s)["properties"].update(id={"type": "string"}),
     "response field 'id' type changed from integer to string"),
    ("request type narrowed",
     lambda s: _post_props(s)["kind"].update(type="string", enum=["a", "b"]),
     "request field 'kind': type narrowed from integer | string to string"),
    ("request enum value removed", lambda s: _post_props(s)["kind"].update(enum=["a", 1]),
     "request field 'kind': enum values removed: 'b'"),
    ("request bound tightened", lambda s: _post_props(s)["name"].update(maxLength=20),
     "request field 'name': maxLength tightened from 50 to 20"),
    ("new required request field",
     lambda s: s["paths"]["/things"]["post"]["requestBody"]["content"]["application/json"][
         "schema"]["required"].append("note"),
     "toy.yaml#/paths/~1things/post/requestBody: request field 'note' is now required"),
    ("request field removed", lambda s: _post_props(s).pop("note"),
     "request field 'note' removed"),
    ("success status changed",
     lambda s: s["paths"]["/things/{id}"]["delete"]["responses"].update(
         {"200": s["paths"]["/things/{id}"]["delete"]["responses"].pop("204")}),
     "toy.yaml#/paths/~1things~1{id}/delete/responses/204: success status 204 no longer "
     "documented (now 200)"),
    ("query parameter removed", lambda s: s["paths"]["/things"]["get"]["parameters"].pop(1),
     "toy.yaml#/paths/~1things/get/parameters: query parameter 'colour' removed"),
    ("query enum narrowed",
     lambda s: s["paths"]["/things"]["get"]["parameters"][1]["schema"].update(enum=["red"]),
     "query parameter 'colour': enum values removed: 'blue'"),
    ("query bound tightened",
     lambda s: s["paths"]["/things"]["get"]["parameters"][0]["schema"].update(maximum=50),
     "query parameter 'limit': maximum tightened from 100 to 50"),
    ("new required query parameter",
     lambda s: s["paths"]["/things"]["get"]["parameters"].append(
         {"name": "team", "in": "query", "required": True, "schema": {"type": "string"}}),
     "new required query parameter 'team'"),
]


@pytest.mark.parametrize(("change", "expected"), [pytest.param(c, e, id=i) for i, c, e in BREAKS])
def test_each_kind_of_break_is_reported(change: Change, expected: str) -> None:
    found = breaks_after(change)
    assert any(expected in line for line in found), found


SAFE: list[tuple[str, Change]] = [
    ("nothing", lambda s: None),
    ("optional request field added", lambda s: _post_props(s).update(extra={"type": "string"})),
    ("response field added", lambda s: _thing(s)["properties"].update(extra={"type": "string"})),
    ("operation added", lambda s: s["paths"]["/things/{id}"].update(get={
        "operationId": "getThing", "responses": {"200": {"description": "ok"}}})),
    ("optional query parameter added", lambda s: s["paths"]["/things"]["get"]["parameters"]
     .append({"name": "q", "in": "query", "schema": {"type": "string"}})),
    ("request bound loosened", lambda s: _post_props(s)["name"].update(maxLength=80)),
    ("request enum widened", lambda s: _post_props(s)["kind"].update(enum=["a", "b", "c", 1])),
    ("path parameter renamed", lambda s: s["paths"].update(
        {"/things/{thing}": s["paths"].pop("/things/{id}")})),
]


@pytest.mark.parametrize("change", [pytest.param(c, id=i) for i, c in SAFE])
def test_safe_changes_are_not_breaking(change: Change) -> None:
    assert breaks_after(change) == []


def git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@hooks.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@hooks.invalid"}
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=env)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "spec").mkdir()
    (tmp_path / "spec/toy.yaml").write_text(yaml.safe_dump(BASE), encoding="utf-8")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "spec/toy.yaml")
    git(tmp_path, "commit", "-q", "-m", "toy spec")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_git_ref_mode_exits_0_when_nothing_broke(repo: Path, capsys: pytest.CaptureFixture) -> None:
    assert spec_diff.main(["HEAD"]) == 0
    assert capsys.readouterr().out.strip() == \
        "spec-diff: no breaking changes against HEAD (1 file(s))"


def test_git_ref_mode_exits_1_with_a_line_per_break(
    repo: Path, capsys: pytest.CaptureFixture
) -> None:
    changed = copy.deepcopy(BASE)
    changed["paths"]["/things"].pop("post")
    changed["components"]["schemas"]["Thing"]["properties"].pop("tags")
    (repo / "spec/toy.yaml").write_text(yaml.safe_dump(changed), encoding="utf-8")
    (repo / "spec/new.yaml").write_text(yaml.safe_dump(BASE), encoding="utf-8")
    assert spec_diff.main(["HEAD"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert "spec/new.yaml: not in HEAD, nothing to compare (new file)" in out
    assert ("spec/toy.yaml#/paths/~1things/post: operation removed: POST /things "
            "(createThing)") in out
    assert "spec/toy.yaml#/paths/~1things/get/responses/200: response field 'data[].tags' " \
           "removed" in out
    assert out[-1] == "spec-diff: 2 breaking change(s) against HEAD"


def test_a_deleted_spec_file_is_breaking(repo: Path, capsys: pytest.CaptureFixture) -> None:
    (repo / "spec/toy.yaml").unlink()
    assert spec_diff.main(["HEAD"]) == 1
    assert "spec/toy.yaml: spec file removed (it exists at HEAD)" in capsys.readouterr().out


def test_an_unknown_ref_is_one_line(repo: Path, capsys: pytest.CaptureFixture) -> None:
    assert spec_diff.main(["no-such-ref"]) == 2
    assert capsys.readouterr().err.strip() == "spec-diff: unknown git ref 'no-such-ref'"


def test_the_project_spec_against_itself_and_with_a_field_dropped() -> None:
    root = Path(__file__).resolve().parent.parent
    raw = yaml.safe_load((root / "spec/v2.yaml").read_text(encoding="utf-8"))
    spec = resolve_refs(raw)
    assert diff_specs(spec, spec, "spec/v2.yaml") == []
    raw["components"]["schemas"]["Webhook"]["properties"].pop("is_enabled")
    found = [str(b) for b in diff_specs(spec, resolve_refs(raw), "spec/v2.yaml")]
    # list, create, get and update all answer a Webhook.
    assert sum("response field" in f and "is_enabled' removed" in f for f in found) == 4, found
