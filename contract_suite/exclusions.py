"""False-alarm exclusions: failures a correct implementation may legitimately cause.

A failure is dropped only by a rule written here, with its reason. The rule for
"negative data accepted": the request is negative only through a value a correct server
may read as valid (a lenient encoding, or a URL the brief's one rule - "an absolute http
or https URL" - admits but the spec's stricter pattern does not). We rewrite exactly
those values to a canonical valid form and let schemathesis' own validator judge the
request again: if it is then valid, the server had every right to accept it.
"""

from __future__ import annotations

import copy
import itertools
from typing import Any
from urllib.parse import urlsplit

from schemathesis import Case, Response
from schemathesis.core.failures import AcceptedNegativeData
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.utils import read_from_wire

# Laravel's boolean rule (upstream is Laravel: "Unauthenticated.", "This action is
# unauthorized.") and most frameworks read these as booleans in a query string.
LENIENT_TRUE = {"1", "true", "on", "yes"}
LENIENT_FALSE = {"0", "false", "off", "no"}
CANONICAL_URL = "https://hooks.invalid/aqid-contracts/canonical"
MAX_QUERY_VARIANTS = 64


def is_false_alarm(failure: Any, case: Case, response: Response) -> bool:
    if isinstance(failure, AcceptedNegativeData):
        return _valid_once_normalized(case)
    return False


def _valid_once_normalized(case: Case) -> bool:
    query = case.query if isinstance(case.query, dict) else {}
    body = case.body
    normalized_body = _normalize_body(body) if isinstance(body, dict) else body
    query_choices = [_query_candidates(value) for value in query.values()]
    if normalized_body == body and all(len(choices) == 1 for choices in query_choices):
        return False  # nothing ambiguous in this request: the failure stands
    validator = case.operation.schema.adapter.jsonschema_validator_cls
    try:
        # Private in schemathesis 4.32 (pinned <5): the validator that classifies cases.
        if isinstance(body, dict) and case.operation.body and not case._validate_component(
                ParameterLocation.BODY, normalized_body, validator):
            return False
        if not query:
            return True
        for values in itertools.islice(itertools.product(*query_choices), MAX_QUERY_VARIANTS):
            candidate = read_from_wire(case.operation, ParameterLocation.QUERY,
                                       dict(zip(query, values, strict=True)))
            if case._validate_component(ParameterLocation.QUERY, candidate, validator):
                return True
        return False
    except Exception:  # noqa: BLE001 - if we cannot judge, the failure stands
        return False


def _query_candidates(value: Any) -> list[Any]:
    """How a lenient server may read one query value: as sent, as an integer, as a boolean."""
    if not isinstance(value, str):
        return [value]
    text = value.strip()
    candidates = [value]
    unsigned = text[1:] if text.startswith("+") else text
    if unsigned.isascii() and unsigned.isdigit() and str(int(unsigned)) != value:
        candidates.append(str(int(unsigned)))
    if text.lower() in LENIENT_TRUE:
        candidates.append("true")
    elif text.lower() in LENIENT_FALSE:
        candidates.append("false")
    return candidates


def _normalize_body(body: dict[str, Any]) -> dict[str, Any]:
    normalized = copy.deepcopy(body)
    if _plausible_http_url(normalized.get("url")):
        normalized["url"] = CANONICAL_URL
    for key in ("is_enabled", "active"):
        if key in normalized:
            normalized[key] = _lenient_bool(normalized[key])
    return normalized


def _plausible_http_url(value: Any) -> bool:
    """An absolute http(s) URL by the brief's rule (any case, any valid authority)."""
    if not isinstance(value, str) or any(ch.isspace() for ch in value):
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on an out-of-range or malformed port
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _lenient_bool(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if isinstance(value, (str, int)) else None
    if text in LENIENT_TRUE:
        return True
    if text in LENIENT_FALSE:
        return False
    return value
