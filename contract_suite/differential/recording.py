"""Recorded runs: a folder written by the recorder plugin, or one file keeping several.

A run is its records (exchanges in each process's order, test outcomes, meta). A
recording file (`--record FILE`, JSON lines, gzip when the name ends in .gz) keeps the
baseline's runs, so a later candidate can be compared with a build no longer running:
its first line names the seed and profile the candidate must be run with.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

FORMAT = 1


class RecordingError(Exception):
    """A recording that cannot be read (one line: file and why)."""


@dataclass
class Run:
    name: str
    records: list[dict[str, Any]] = field(default_factory=list)

    @property
    def meta(self) -> dict[str, Any]:
        return next((r for r in self.records if r.get("type") == "meta"), {})

    @property
    def exchanges(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r.get("type") == "exchange"]

    @property
    def failed_tests(self) -> set[str]:
        return {r["test"] for r in self.records
                if r.get("type") == "outcome" and r.get("outcome") == "failed"}

    @property
    def ping_tests(self) -> set[str]:
        """Tests marked `pings`: they wait for their webhooks' pings, which are compared."""
        return {r["test"] for r in self.records
                if r.get("type") == "outcome" and r.get("pings")}

    @property
    def signature_checked(self) -> bool:
        """Whether the recorder checked its deliveries' signatures (older recordings: no)."""
        return all("signature_check" in r for r in self.exchanges if r.get("kind") == "delivery")

    @property
    def tests(self) -> set[str]:
        return {r["test"] for r in self.records if r.get("type") == "outcome"}


def load_folder(name: str, folder: Path) -> Run:
    """The recorder's folder: one file per pytest process, meta line first in each."""
    files = sorted(folder.glob("exchanges-*.jsonl"))
    if not files:
        raise RecordingError(f"{folder}: no exchanges-*.jsonl (was the run recorded?)")
    run = Run(name)
    for path in files:
        with path.open(encoding="utf-8") as handle:
            run.records.extend(_lines(path, handle))
    return run


def save(path: Path, runs: list[Run], *, seed: int, profile: str,
         pytest_args: tuple[str, ...] = ()) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with _open(path, "w") as handle:
        header = {"type": "recording", "format": FORMAT, "seed": seed, "profile": profile,
                  "pytest_args": list(pytest_args), "runs": [run.name for run in runs]}
        handle.write(json.dumps(header) + "\n")
        for run in runs:
            for record in run.records:
                handle.write(json.dumps({**record, "run": run.name}, sort_keys=True) + "\n")


def load(path: Path) -> tuple[dict[str, Any], list[Run]]:
    """The recording's header (seed, profile) and its runs, in order."""
    if not path.is_file():
        raise RecordingError(f"{path}: no such recording file")
    try:
        with _open(path, "r") as handle:
            records = list(_lines(path, handle))
    except (OSError, EOFError) as exc:
        raise RecordingError(f"{path}: cannot read it ({exc})") from None
    if not records or records[0].get("type") != "recording":
        raise RecordingError(f"{path}:1: not a differential recording (no header line)")
    header = records[0]
    if header.get("format") != FORMAT:
        raise RecordingError(f"{path}:1: recording format {header.get('format')!r}, "
                             f"this version reads {FORMAT}")
    runs = {name: Run(name) for name in header.get("runs", [])}
    if not runs:
        raise RecordingError(f"{path}:1: the recording holds no runs")
    for record in records[1:]:
        name = record.pop("run", None)
        if name not in runs:
            raise RecordingError(f"{path}: a record of run {name!r}, not named in the header")
        runs[name].records.append(record)
    return header, list(runs.values())


def _open(path: Path, mode: str) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, mode + "t", encoding="utf-8")  # type: ignore[return-value]
    return path.open(mode, encoding="utf-8")


def _lines(path: Path, handle: IO[str]) -> Iterator[dict[str, Any]]:
    for number, line in enumerate(handle, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            raise RecordingError(f"{path}:{number}: not a JSON line") from None
        if not isinstance(record, dict):
            raise RecordingError(f"{path}:{number}: not a JSON object")
        yield record
