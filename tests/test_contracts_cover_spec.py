"""The curated contracts cover the spec: every operation is exercised, every documented
request example is sent, and every request a contract makes is a spec operation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from contract_suite.core.spec_index import SpecIndex
from contract_suite.curated.contract_format import PLACEHOLDER, iter_steps, load_contract

ROOT = Path(__file__).resolve().parent.parent
CURATED = [ROOT / "contracts" / folder for folder in ("v1", "v2", "cross-version")]
INDEX = SpecIndex.load(ROOT / "spec")


def contract_requests() -> Iterator[tuple[str, str, Any]]:
    """(method, concrete path, json body) of every request step of the curated contracts."""
    for folder in CURATED:
        for path in sorted(folder.glob("*.contract.yaml")):
            for ref in iter_steps(load_contract(path)):
                if "request" in ref.step:
                    request = ref.step["request"]
                    yield (request["method"], PLACEHOLDER.sub("1", request["path"]),
                           request.get("json"))
                elif "walk_pages" in ref.step:
                    yield "GET", ref.step["walk_pages"]["path"], None


REQUESTS = list(contract_requests())


def test_every_api_operation_has_a_curated_contract() -> None:
    exercised = {op.operation_id for method, path, _ in REQUESTS
                 if (op := INDEX.find(method, path))}
    expected = {op.operation_id for op in INDEX.operations() if op.spec_name in ("v1", "v2")}
    assert expected - exercised == set()


def request_examples() -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    for name in ("v1", "v2", "sandbox"):
        document = yaml.safe_load((ROOT / "spec" / f"{name}.yaml").read_text())
        prefix = INDEX.specs[name].prefix
        for template, item in document.get("paths", {}).items():
            for method, operation in item.items():
                content = (operation.get("requestBody") or {}).get("content", {}) \
                    if isinstance(operation, dict) else {}
                for media in content.values():
                    for example_name, example in (media.get("examples") or {}).items():
                        yield (method.upper(), prefix + template, example_name,
                               example["value"])


def without_url(body: Any) -> Any:
    if isinstance(body, dict):
        return {k: v for k, v in body.items() if k != "url"}
    return body


@pytest.mark.parametrize(("method", "template", "name", "body"), list(request_examples()),
                         ids=lambda value: value if isinstance(value, str) else "")
def test_every_request_example_is_sent_by_a_contract(method: str, template: str, name: str,
                                                     body: dict[str, Any]) -> None:
    operation = INDEX.find(method, PLACEHOLDER.sub("1", template))
    assert operation is not None
    sent = [without_url(json) for m, path, json in REQUESTS
            if m == method and INDEX.find(m, path) == operation]
    assert without_url(body) in sent, f"{operation} example {name!r} is sent by no contract"
