"""Where the project's files are: defined once, imported by everything that reads them."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPEC_DIR = ROOT / "spec"
CONTRACTS_DIR = ROOT / "contracts"
