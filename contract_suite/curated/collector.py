"""Collects `*.contract.yaml` files: one pytest item per scenario, `path::scenario-name`.

Modelled on pytest's "non-Python tests" example: a File, an Item, and the failure text.
A broken contract FILE is a collection error of one line (file:line, what, how to fix);
a broken API contract is a test failure showing the step's YAML lines (Tavern-style),
the request with its token masked, Received vs Expected and the JSON path.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ..core.cleanup import delete_created_since
from ..core.http import MissingCredentials
from ..core.paths import SPEC_DIR as DEFAULT_SPEC_DIR
from ..core.redact import Secrets, masked
from ..core.session import existing_session, get_session, require_other_team
from ..core.spec_index import SpecIndex
from ..core.target import api_version_of
from .contract_format import (
    PLACEHOLDER,
    ContractFormatError,
    MarkedDict,
    iter_steps,
    load_contract,
    step_kind,
)
from .matchers import MISSING
from .steps import ScenarioRun, StepFailure, run_scenario

SUFFIX = ".contract.yaml"
# A test seam: the project's own tests put a stand-in session (target, api) here.
SESSION_OVERRIDE = pytest.StashKey[Any]()
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
READ_ONLY_TOKEN_NEEDED = ("needs a read-only token of the main team: pass --read-only-token "
                          "(or AQID_READ_ONLY_TOKEN)")


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> ContractFile | None:
    if file_path.name.endswith(SUFFIX):
        return ContractFile.from_parent(parent, path=file_path)
    return None


def spec_dir(config: pytest.Config) -> Path:
    session = existing_session(config)
    return Path(session.spec_dir) if session else DEFAULT_SPEC_DIR


class ContractFile(pytest.File):
    def collect(self) -> Iterator[ContractItem]:
        shown = self._shown_path()
        document = load_contract(shown, self.path.read_text(encoding="utf-8"))
        spec = SpecIndex.load(spec_dir(self.config))
        check_requests_documented(shown, document, spec)
        file_marks = list(document.get("marks", []))
        for name, scenario in document["scenarios"].items():
            item = ContractItem.from_parent(self, name=name, scenario=scenario, spec=spec)
            for mark in sorted(scenario_marks(scenario, file_marks)):
                item.add_marker(mark)
            yield item

    def _shown_path(self) -> str:
        try:
            return str(self.path.relative_to(self.config.rootpath))
        except ValueError:
            return str(self.path)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> Any:
        if isinstance(excinfo.value, ContractFormatError):
            return f"contract file error: {excinfo.value}"
        return super().repr_failure(excinfo)


def check_requests_documented(shown: str, document: MarkedDict, spec: SpecIndex) -> None:
    """Every request must be an operation of the spec, unless the step opts out with a reason."""
    for ref in iter_steps(document):
        kind = step_kind(ref.step)
        if kind == "pause" or "spec" in ref.step:
            continue
        block = ref.step[kind]
        method = block.get("method", "GET")
        concrete = _example_path(block["path"])
        if spec.find(method, concrete):
            continue
        known = spec.methods_for(concrete)
        fix = (f"documented methods: {', '.join(known)}" if known
               else "no spec has this path")
        raise ContractFormatError(
            shown, block.key_lines.get("path", ref.step.start_line),
            f"step {ref.index} of scenario {ref.scenario!r}: {method} {block['path']} is not "
            f"in the spec ({fix}); fix the path or method, or add `spec: {{skip: <why>}}` "
            "to the step for a deliberately undocumented request",
        )


def _example_path(template: str) -> str:
    return PLACEHOLDER.sub("1", template)


def scenario_marks(scenario: dict[str, Any], file_marks: list[str]) -> set[str]:
    """Declared marks plus those the steps imply (version, writes, credentials, sandbox)."""
    marks = set(file_marks) | set(scenario.get("marks", []))
    for step in scenario["steps"]:
        kind = step_kind(step)
        if kind == "pause":
            continue
        block = step[kind]
        path = block["path"]
        version = api_version_of(path)
        if version is not None:
            marks.add(version)
        elif path.startswith("/_sandbox"):
            marks.add("sandbox")
        if block.get("method", "GET") in WRITE_METHODS:
            marks.add("writes")
        if block.get("credentials") == "other_team":
            marks.add("other_team")
        elif block.get("credentials") == "read_only":
            marks.add("read_only_token")
    if {"v1", "v2"} <= marks:
        marks.add("cross_version")
    return marks


class ContractItem(pytest.Item):
    def __init__(self, *, scenario: dict[str, Any], spec: SpecIndex, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.spec = spec

    def runtest(self) -> None:
        session = self.config.stash.get(SESSION_OVERRIDE, None) or get_session(self.config)
        marks = {mark.name for mark in self.iter_markers()}
        if "other_team" in marks:
            require_other_team(session.target)
        if "read_only_token" in marks and not session.target.read_only_token:
            pytest.skip(READ_ONLY_TOKEN_NEEDED)
        if "sandbox" in marks and session.sandbox is None:
            pytest.skip("needs the reference server's /_sandbox control surface")
        unavailable = {"v1", "v2"} & marks - set(session.target.api_versions)
        if unavailable:
            pytest.skip(f"API version(s) {', '.join(sorted(unavailable))} not selected")
        run = ScenarioRun(session.api, session.target, self.spec, self.name,
                          absent_id=getattr(session, "absent_webhook_id", None))
        before = session.api.created_now()
        try:
            run_scenario(run, self.scenario["steps"])
        except MissingCredentials as missing:
            pytest.skip(str(missing))
        finally:
            # A scenario that stopped at a failure never reached its own DELETE steps: its
            # webhooks go now, not at the run's end, so later list walks (and a differential
            # run's comparison) do not see them. Not on Ctrl-C: the run's cleanup does that.
            if not isinstance(sys.exc_info()[1], KeyboardInterrupt):
                delete_created_since(session.api, before)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> Any:
        secrets = self._secrets()
        if isinstance(excinfo.value, StepFailure):
            return secrets(format_failure(excinfo.value, self.path))
        if isinstance(excinfo.value, httpx.TransportError):
            return secrets(f"cannot reach the target: {excinfo.value!r} "
                           "(is --base-url right and the server up?)")
        return super().repr_failure(excinfo)

    def _secrets(self) -> Secrets:
        session = self.config.stash.get(SESSION_OVERRIDE, None) or existing_session(self.config)
        secrets = getattr(session, "secrets", None)
        return secrets if isinstance(secrets, Secrets) else Secrets()

    def reportinfo(self) -> tuple[Path, int | None, str]:
        line = getattr(self.scenario, "start_line", 1)
        return self.path, line - 1, f"contract {self.name}"


# ---- the failure text --------------------------------------------------------------------


def format_failure(failure: StepFailure, path: Path) -> str:
    step = failure.step
    name = f' "{step["name"]}"' if step is not None and "name" in step else ""
    lines = [f"Contract broken: scenario {failure.scenario!r}, step {failure.step_index}{name}",
             f"  {failure.headline}", ""]
    if step is not None:
        lines += [f"{path.name}, lines {step.start_line}-{step.end_line}:"]
        lines += yaml_excerpt(path, step.start_line, step.end_line)
        lines.append("")
    if failure.path:
        lines.append(f"Where:    {failure.path}")
    if failure.expected is not MISSING:
        lines.append(f"Expected: {_shown(failure.expected)}")
    if failure.received is not MISSING:
        lines.append(f"Received: {_shown(failure.received)}")
    if failure.request:
        request = failure.request.lines()
        lines.append(f"Request:  {request[0]}")
        lines += [f"          {extra}" for extra in request[1:]]
    if failure.response:
        lines.append(f"Response: {failure.response}")
    return "\n".join(lines)  # the item masks the session's secrets in it


def yaml_excerpt(path: Path, first: int, last: int) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    width = len(str(last))
    return [f"  {number:>{width}} | {text[number - 1]}"
            for number in range(first, min(last, len(text)) + 1)]


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(masked(value), ensure_ascii=False, default=str)
