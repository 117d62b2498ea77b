"""Faults and variants are modifiers at seams: one per catalogue entry, none elsewhere.

The server's modules hold only the correct behaviour (reference_server/seams.py); these
tests keep it so: every catalogued name has exactly one registered modifier, a name outside
the catalogue cannot be registered, and no module but the catalogue, the seams and the
modifiers asks whether a fault is on or names one.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reference_server import seams
from reference_server.faults import FAULTS, VARIANTS

PACKAGE = Path(seams.__file__).parent
# Where fault names belong: the catalogue, the mechanism, the modifiers, the settings.
NAMING_ALLOWED = {"faults.py", "seams.py", "config.py"}


def test_every_catalogue_entry_has_exactly_one_modifier_and_nothing_else_has_one() -> None:
    registered = seams.modifiers()
    assert set(registered) == set(FAULTS) | set(VARIANTS)
    for name, modifier in registered.items():
        assert modifier.name == name
        assert modifier.kind == ("fault" if name in FAULTS else "variant"), name
        assert modifier.at, f"{name} modifies no seam"
        assert set(modifier.at) <= set(seams.SEAMS), name


def test_every_seam_is_used_by_some_modifier() -> None:
    used = {seam for modifier in seams.modifiers().values() for seam in modifier.at}
    assert used == set(seams.SEAMS) - {"v2 list", "v2 update", "v2 deliveries", "v1 list",
                                        "v1 create", "v1 update", "v1 deliveries"}


def test_a_modifier_for_an_uncatalogued_name_or_a_second_one_is_refused() -> None:
    seams.modifiers()  # all registered first: a second one is then refused
    with pytest.raises(KeyError, match="not in faults.FAULTS"):
        seams.fault("not-catalogued")
    with pytest.raises(KeyError, match="not in faults.VARIANTS"):
        seams.variant("not-catalogued")
    with pytest.raises(ValueError, match="already has a modifier"):
        seams.fault(next(iter(FAULTS)))
    with pytest.raises(KeyError, match="no seam"):
        seams.seam("not a seam")
    assert "not-catalogued" not in seams.modifiers()


def test_a_seam_without_settings_in_its_arguments_is_a_clear_error() -> None:
    @seams.seam("json")
    def render(payload: object) -> bytes:
        return b""

    with pytest.raises(TypeError, match="seam 'json': no Settings"):
        render({})


def _modules_holding_the_correct_behaviour() -> list[Path]:
    return [path for path in sorted(PACKAGE.rglob("*.py"))
            if path.name not in NAMING_ALLOWED and "modifiers" not in path.parts]


def test_no_view_or_logic_module_asks_for_or_names_a_fault() -> None:
    modules = _modules_holding_the_correct_behaviour()
    assert {"views_v1.py", "views_v2.py", "webhooks.py", "pagination.py"} <= {
        path.name for path in modules}
    for path in modules:
        source = path.read_text(encoding="utf-8")
        assert "has_fault" not in source, path.name
        assert "has_variant" not in source, path.name
        for name in FAULTS:
            assert not re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", source), (
                f"{path.name} names the fault {name!r}: put it in a modifier")
