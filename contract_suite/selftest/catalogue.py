"""What the self-test runs against: the clean server, every fault, every benign variant.

The catalogue is read from reference_server/faults.py when called (it grows while others
work), never copied here. A selection names faults and variants; an unknown name is one
line naming it and the known ones.
"""

from __future__ import annotations

from collections.abc import Iterable

from reference_server import faults as catalogue

from .runs import TargetSpec

# A representative slice for --quick: a generated-test catch (status code), a delivery
# contract catch (signature), a curated catch (isolation) and a benign variant touching
# every JSON body. Names missing from the catalogue are simply left out.
QUICK_FAULTS = ("v2-create-returns-200", "signature-hex", "other-team-visible")
QUICK_VARIANTS = ("reordered-keys",)


class SelectionError(ValueError):
    """An unknown fault or variant name; the message is the one line to print."""


def clean() -> TargetSpec:
    return TargetSpec("clean", "clean")


def fault_targets(names: Iterable[str] | None = None) -> list[TargetSpec]:
    known = catalogue.FAULTS
    chosen = list(known) if names is None else _check(names, known, "fault")
    return [TargetSpec(name, "fault", faults=(name,)) for name in chosen]


def variant_targets(names: Iterable[str] | None = None) -> list[TargetSpec]:
    known = catalogue.VARIANTS
    chosen = list(known) if names is None else _check(names, known, "variant")
    return [TargetSpec(name, "variant", variants=(name,)) for name in chosen]


def quick_targets() -> list[TargetSpec]:
    return ([clean()]
            + fault_targets([n for n in QUICK_FAULTS if n in catalogue.FAULTS])
            + variant_targets([n for n in QUICK_VARIANTS if n in catalogue.VARIANTS]))


def select(faults: str | None, variants: str | None, *, quick: bool = False,
           with_clean: bool = True) -> list[TargetSpec]:
    """The targets for comma-separated `faults`/`variants` (None: all of that kind).

    Naming only faults runs no variants and vice versa; naming neither runs everything.
    """
    if quick:
        return quick_targets()
    named = faults is not None or variants is not None
    fault_names = _split(faults) if faults is not None else (None if not named else [])
    variant_names = _split(variants) if variants is not None else (None if not named else [])
    return (([clean()] if with_clean else []) + fault_targets(fault_names)
            + variant_targets(variant_names))


def _split(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _check(names: Iterable[str], known: dict[str, object], kind: str) -> list[str]:
    names = list(dict.fromkeys(names))
    unknown = [name for name in names if name not in known]
    if unknown:
        raise SelectionError(f"unknown {kind}(s) {', '.join(unknown)}; known: "
                             f"{', '.join(known) or 'none'} (reference_server/faults.py)")
    return names
