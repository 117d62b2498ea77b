"""What the self-test runs against: the clean server, every fault, every benign variant.

The catalogue is read from reference_server/faults.py when called (it grows while others
work), never copied here. A selection names faults and variants; an unknown name is one
line naming it and the known ones.

Two kinds of target need more than a plain suite run:
- the rate-limited target (`rate-limited-200`: 200 requests per 60 s per user per team,
  room entry `rate-limits`) runs with a profile sized for such a limit (`staging`, else
  `smoke`) and a generous timeout; the server is started with that limit whether or not
  the variant is in the catalogue yet (then on the clean server);
- the integrity runs (integrity.py): a pre-populated server snapshotted before and after
  a full run and after runs interrupted by SIGINT at several points.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from contract_suite.core.profiles import PROFILES
from reference_server import faults as catalogue

from .integrity import IntegrityObserver
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


# -- the rate-limited target (room entry `rate-limits`) -------------------------------------
RATE_LIMITED = "rate-limited-200"
RATE_LIMIT, RATE_WINDOW = 200, 60.0  # the upstream example: X-RateLimit-Limit: 200
RATE_LIMITED_TIMEOUT = 900.0  # a paced suite waits out whole windows


def rate_limited_profile() -> str:
    """`staging` (sized for a 200-a-minute limit) once it exists, else `smoke`."""
    return "staging" if "staging" in PROFILES else "smoke"


def rate_limited_target() -> TargetSpec:
    variants = (RATE_LIMITED,) if RATE_LIMITED in catalogue.VARIANTS else ()
    # Its observer checks that nothing is left behind (cleanup paced under the limit too).
    return TargetSpec(RATE_LIMITED, "variant", variants=variants,
                      profile=rate_limited_profile(), timeout=RATE_LIMITED_TIMEOUT,
                      rate_limit=RATE_LIMIT, rate_window=RATE_WINDOW,
                      observer=functools.partial(IntegrityObserver, None, require_seeded=False))


SPECIAL_VARIANTS = {RATE_LIMITED: rate_limited_target}


def known_variants() -> list[str]:
    """The catalogue's variants, plus the special ones it may not hold yet."""
    return [*catalogue.VARIANTS, *(n for n in SPECIAL_VARIANTS if n not in catalogue.VARIANTS)]


def variant_targets(names: Iterable[str] | None = None) -> list[TargetSpec]:
    known = dict.fromkeys(known_variants())
    chosen = list(known) if names is None else _check(names, known, "variant")
    return [SPECIAL_VARIANTS[name]() if name in SPECIAL_VARIANTS
            else TargetSpec(name, "variant", variants=(name,)) for name in chosen]


# -- the integrity runs (integrity.py) -------------------------------------------------------
INTEGRITY_VARIANTS = ("prepopulated-unusual", "prepopulated")  # the first in the catalogue
# (SIGINT just after this test of the run starts, xdist workers). The run's 105 tests go
# curated (1-77), deliveries (78-92), generated (93-105): a curated scenario early, a
# delivery test holding its webhook, a generated test mid-call, and once with two workers.
# Counted in tests, not seconds: points in seconds (4, 12, 18 s after the first test)
# landed after the end of a fast run, or in its cleanup, and tested nothing.
INTERRUPTS = ((5, 0), (80, 0), (96, 0), (60, 2))


def integrity_variant() -> str | None:
    return next((name for name in INTEGRITY_VARIANTS if name in catalogue.VARIANTS), None)


def integrity_targets() -> list[TargetSpec]:
    """A full run and the interrupted runs, each on a fresh pre-populated server."""
    variant = integrity_variant()
    if variant is None:
        raise SelectionError(f"the integrity check needs one of the variants "
                             f"{', '.join(INTEGRITY_VARIANTS)} (reference_server/faults.py); "
                             "none is there (run with --no-integrity)")
    targets = [TargetSpec("integrity-full", "integrity", variants=(variant,),
                          observer=functools.partial(IntegrityObserver, 0))]
    for test, workers in INTERRUPTS:
        name = f"integrity-sigint-test{test}" + (f"-n{workers}" if workers else "")
        targets.append(TargetSpec(name, "integrity", variants=(variant,),
                                  xdist_workers=workers, interrupt_at_test=test,
                                  observer=functools.partial(IntegrityObserver, 2)))
    return targets


def quick_targets() -> list[TargetSpec]:
    return ([clean()]
            + fault_targets([n for n in QUICK_FAULTS if n in catalogue.FAULTS])
            + variant_targets([n for n in QUICK_VARIANTS if n in catalogue.VARIANTS]))


def select(faults: str | None, variants: str | None, *, quick: bool = False,
           with_clean: bool = True, integrity: bool | None = None) -> list[TargetSpec]:
    """The targets for comma-separated `faults`/`variants` (None: all of that kind).

    Naming only faults runs no variants and vice versa; naming neither runs everything.
    `integrity` None: the integrity runs come with the whole catalogue only (neither
    named, not quick); True/False forces them on/off.
    """
    named = faults is not None or variants is not None
    if integrity is None:
        integrity = not named and not quick
    extra = integrity_targets() if integrity else []
    if quick:
        return quick_targets() + extra
    fault_names = _split(faults) if faults is not None else (None if not named else [])
    variant_names = _split(variants) if variants is not None else (None if not named else [])
    return (([clean()] if with_clean else []) + fault_targets(fault_names)
            + variant_targets(variant_names) + extra)


def _split(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _check(names: Iterable[str], known: dict[str, object], kind: str) -> list[str]:
    names = list(dict.fromkeys(names))
    unknown = [name for name in names if name not in known]
    if unknown:
        raise SelectionError(f"unknown {kind}(s) {', '.join(unknown)}; known: "
                             f"{', '.join(known) or 'none'} (reference_server/faults.py)")
    return names
