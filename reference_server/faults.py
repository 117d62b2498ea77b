"""The catalogue of named faults and benign variants.

A *fault* breaks one documented contract (API-BRIEF.md and spec/) in one small, named,
deterministic way; the fault self-test switches each on and expects the contract suite to
fail. A *variant* is a behaviour the contract leaves open (key order, page size, latency,
extra fields...); the suite must stay green with it. For each entry of the brief's Room
(contract_suite/generated/room.py) one variant takes the other allowed choice from the
clean server, so the self-test shows where the suite over-assumes (tests:
tests/test_server_room.py).

This module is the catalogue only. The server's modules hold only the correct behaviour;
each fault and variant is one small named modifier in reference_server/modifiers/, which
changes what one or a few *seams* compute (reference_server/seams.py lists them: a view's
response, a representation, a query, a store operation, the delivery headers...).

Adding one: an entry here (name, area, operations it shows in, how it breaks the contract);
a modifier in reference_server/modifiers/ for the area, e.g.
`@fault("name").after("v2 webhook")` on a function that takes the seam's result and
arguments and returns the changed result (`.around(seam)` to decide how to call it); if
no seam computes what it changes, a `@seam("...")` on the function that does (and a line
in seams.SEAMS); and a `test_<name>` in tests/test_server_faults.py showing the difference
from a clean server. A name missing here cannot be registered; tests/test_server_modifiers.py
checks that every entry has exactly one modifier.
"""

from __future__ import annotations

from dataclasses import dataclass

# The areas issue 3 asks the catalogue to cover, and the operations it must spread over.
AREAS: tuple[str, ...] = (
    "status codes", "field names/types", "error bodies", "pagination", "enabled filter",
    "validation", "auth", "team isolation", "persistence", "cross-version", "timestamps",
    "deliveries",
)
V2_OPS = ("v2 list", "v2 create", "v2 retrieve", "v2 update", "v2 delete", "v2 deliveries")
V1_OPS = ("v1 list", "v1 create", "v1 update", "v1 delete", "v1 deliveries")
OUTBOUND = "outbound delivery"  # the signed POST a subscriber receives
OPERATIONS: tuple[str, ...] = (*V2_OPS, *V1_OPS, OUTBOUND)

# Operations whose response shows a webhook, per version.
V2_SHOWS_WEBHOOK = ("v2 list", "v2 create", "v2 retrieve", "v2 update")
V1_SHOWS_WEBHOOK = ("v1 list", "v1 create", "v1 update", "v1 delete")
V2_LISTS = ("v2 list", "v2 deliveries")
V1_LISTS = ("v1 list", "v1 deliveries")


@dataclass(frozen=True)
class Fault:
    name: str
    area: str  # one of AREAS (variants: what they touch)
    operations: tuple[str, ...]  # where it shows: entries of OPERATIONS
    description: str  # how it breaks the contract (variants: how they differ), one line


def _catalogue(*items: Fault) -> dict[str, Fault]:
    return {item.name: item for item in items}


FAULTS: dict[str, Fault] = _catalogue(
    # -- status codes ----------------------------------------------------------------------
    Fault("v2-create-returns-200", "status codes", ("v2 create",),
          "answers 200 instead of 201"),
    Fault("v2-delete-returns-200-with-body", "status codes", ("v2 delete",),
          "answers 200 with the webhook instead of 204 with an empty body"),
    Fault("v1-delete-returns-204", "status codes", ("v1 delete",),
          "v1 delete answers 204 with an empty body instead of 200 with the deleted webhook"),
    # -- field names and types -------------------------------------------------------------
    Fault("v2-missing-object-tag", "field names/types", V2_SHOWS_WEBHOOK,
          'webhook objects lack "object": "webhook"'),
    Fault("v1-events-as-array", "field names/types", V1_SHOWS_WEBHOOK,
          "v1 shows events as an array, not one string"),
    Fault("v1-active-missing", "field names/types", V1_SHOWS_WEBHOOK,
          "v1 webhooks lack the `active` field"),
    Fault("v2-uuid-not-uuid", "field names/types", V2_SHOWS_WEBHOOK,
          'v2 `uuid` is "wh_" and 12 hex digits, not a UUID'),
    Fault("v2-secret-missing-on-read", "field names/types", ("v2 retrieve",),
          "retrieving a webhook omits `secret` (it must be returned on every read)"),
    # -- pagination ------------------------------------------------------------------------
    Fault("v2-links-not-null-on-single-page", "pagination", V2_LISTS,
          'a single page has links {"next": null, "previous": null} instead of null'),
    Fault("v2-count-is-total", "pagination", V2_LISTS,
          "count is the total, not the items on the page"),
    Fault("pagination-off-by-one", "pagination", (*V2_LISTS, *V1_LISTS),
          "pages after the first start one item early: every multi-page walk repeats one"),
    Fault("v2-page-past-end-404", "pagination", V2_LISTS,
          'a page past the end answers 404 instead of 200 with "data": []'),
    Fault("v2-links-drop-query", "pagination", V2_LISTS,
          "links.next/previous keep only ?page=, dropping limit and enabled"),
    Fault("v1-per-page-ignored", "pagination", ("v1 list",),
          "v1 ?per_page= is accepted but the page size stays 25"),
    Fault("v1-links-object-on-single-page", "pagination", V1_LISTS,
          "v1 meta.pagination.links is {} instead of [] when there is one page"),
    Fault("v1-total-pages-off-by-one", "pagination", V1_LISTS,
          "v1 total_pages is one more than ceil(total / per_page)"),
    Fault("list-order-descending", "pagination", ("v2 list", "v1 list"),
          "webhook lists come in descending id order instead of ascending"),
    Fault("links-next-same-page", "pagination", (*V2_LISTS, *V1_LISTS),
          "links.next (v1: meta.pagination.links.next) points at the current page"),
    # -- validation ------------------------------------------------------------------------
    Fault("v2-limit-out-of-range-accepted", "validation", V2_LISTS,
          "?limit=0 and ?limit=101 answer 200 (clamped to 1..100) instead of 422"),
    Fault("v2-url-any-string", "validation", ("v2 create", "v2 update"),
          'any string is accepted as url ("not a url" answers 201, not 422)'),
    Fault("v2-ping-subscribable", "validation", ("v2 create", "v2 update"),
          '"ping" is accepted in events (it is a delivery event, never subscribable)'),
    Fault("v2-events-duplicates-accepted", "validation", ("v2 create", "v2 update"),
          "events with a repeated name are stored and returned with the repeat (accepting"
          " them is room; the stored list must still hold each name once)"),
    Fault("read-only-fields-honoured", "validation", ("v2 create", "v2 update"),
          "a `secret` or `created_at` sent on create or PATCH is stored and returned"),
    Fault("v2-empty-patch-accepted", "validation", ("v2 update",),
          "an empty PATCH (or one of read-only fields only) answers 200 instead of 422"),
    Fault("invalid-patch-partially-applied", "validation", ("v2 update",),
          "a PATCH answered 422 still stores its valid fields"),
    Fault("v1-put-partial", "validation", ("v1 update",),
          "v1 PUT missing a required field keeps the old value instead of answering 422"),
    Fault("v1-create-active-optional", "validation", ("v1 create",),
          "v1 create without `active` answers 201 (active true) instead of 422"),
    Fault("oversized-body-accepted", "validation", ("v2 create", "v2 update", "v1 create",
                                                    "v1 update"),
          "bodies over 64 KiB are processed instead of answered 413"),
    Fault("validation-422-as-400", "status codes", (*V2_OPS, *V1_OPS),
          "validation errors answer 400 (same body) instead of 422"),
    Fault("non-numeric-id-500", "status codes", ("v2 retrieve", "v2 update", "v2 delete",
                                                 "v2 deliveries", "v1 update", "v1 delete",
                                                 "v1 deliveries"),
          "a non-numeric webhook id (/webhooks/abc) is an unhandled 500 instead of the 404"),
    # -- error bodies and headers ----------------------------------------------------------
    Fault("validation-errors-unnamed", "error bodies", (*V2_OPS, *V1_OPS),
          '422 bodies are {"message": ["The given data was invalid."]}, naming no field'),
    Fault("unauthenticated-body-wrong", "error bodies", (*V2_OPS, *V1_OPS),
          '401 bodies are {"message": "Unauthenticated."} instead of {"error": ...}'),
    Fault("unknown-route-wrong-body", "error bodies", (),  # no operation: any unknown path
          'an unknown route answers 404 {"message": "Not Found"}, not {"error": "Not Found."}'),
    Fault("405-without-allow", "error bodies", (*V2_OPS, *V1_OPS),
          "a known path with a method it lacks answers 405 without an Allow header"),
    Fault("ratelimit-headers-missing-on-errors", "error bodies", (*V2_OPS, *V1_OPS),
          "4xx responses lack X-RateLimit-Limit / X-RateLimit-Remaining"),
    # -- enabled filter --------------------------------------------------------------------
    Fault("enabled-filter-ignored", "enabled filter", ("v2 list",),
          "?enabled= is accepted but does not filter"),
    # -- persistence -----------------------------------------------------------------------
    Fault("patch-replaces-whole", "persistence", ("v2 update",),
          "PATCH resets omitted fields to their defaults (events ['*'], is_enabled true)"),
    Fault("update-not-stored", "persistence", ("v2 update", "v1 update"),
          "an update answers 200 with the new values but stores nothing"),
    Fault("v2-delete-not-effective", "persistence", ("v2 delete",),
          "v2 delete answers 204 but the webhook stays (retrieve 200, still listed)"),
    Fault("v1-delete-not-effective", "persistence", ("v1 delete",),
          "v1 delete answers 200 with the webhook but it stays, in v1 and v2 alike"),
    # -- auth ------------------------------------------------------------------------------
    Fault("auth-after-lookup", "auth", ("v2 retrieve", "v2 update", "v2 delete", "v2 deliveries",
                                        "v1 update", "v1 delete", "v1 deliveries"),
          "without a token an unknown id answers 404 instead of 401 (lookup before auth)"),
    Fault("invalid-token-accepted", "auth", (*V2_OPS, *V1_OPS),
          "any unknown bearer token is taken as the first configured team's"),
    Fault("read-only-can-write", "auth", ("v2 create", "v2 update", "v2 delete", "v1 create",
                                          "v1 update", "v1 delete"),
          "a read-only token may create, update and delete instead of getting 403"),
    # -- team isolation --------------------------------------------------------------------
    Fault("other-team-visible", "team isolation", ("v2 retrieve",),
          "retrieving another team's webhook by id answers 200 instead of 404"),
    Fault("other-team-listed", "team isolation", ("v2 list", "v1 list"),
          "lists show every team's webhooks, not only the caller's"),
    Fault("other-team-can-delete", "team isolation", ("v2 delete", "v1 delete"),
          "deleting another team's webhook by id succeeds instead of 404"),
    Fault("deliveries-list-other-team", "team isolation", ("v2 deliveries", "v1 deliveries"),
          "another team's webhook's delivery log is readable by id instead of 404"),
    # -- cross-version ---------------------------------------------------------------------
    Fault("v1-secret-differs", "cross-version", V1_SHOWS_WEBHOOK,
          "v1 shows a different (well-formed) secret from v2's, one that signs nothing"),
    Fault("v1-active-inverted", "cross-version", V1_SHOWS_WEBHOOK,
          "v1 `active` is the opposite of v2 `is_enabled`"),
    Fault("v1-timestamps-other-instant", "cross-version", V1_SHOWS_WEBHOOK,
          "v1 timestamps are one hour earlier than v2's (same form, different instant)"),
    # -- timestamps ------------------------------------------------------------------------
    Fault("v2-timestamps-offset", "timestamps", V2_SHOWS_WEBHOOK,
          "v2 created_at/updated_at end in +00:00 instead of Z"),
    Fault("v1-timestamps-zulu", "timestamps", V1_SHOWS_WEBHOOK,
          "v1 created_at/updated_at end in Z instead of +00:00"),
    Fault("created-at-moves-on-update", "timestamps", ("v2 update", "v1 update"),
          "an update sets created_at to the update time (created_at must never move)"),
    Fault("updated-at-not-moved", "timestamps", ("v2 update", "v1 update"),
          "an update leaves updated_at where it was (it must move on every update)"),
    Fault("updated-at-moves-on-rejected-update", "timestamps", ("v2 update",),
          "a PATCH answered 422 still moves updated_at (a rejected update changes nothing)"),
    # -- deliveries ------------------------------------------------------------------------
    Fault("signature-hex", "deliveries", (OUTBOUND,),
          "X-AQID-Signature is the hex digest, not base64"),
    Fault("signature-wrong-key", "deliveries", (OUTBOUND,),
          "X-AQID-Signature is keyed with the webhook's uuid instead of its secret"),
    Fault("signature-over-reserialised-body", "deliveries", (OUTBOUND,),
          'the signature covers json.dumps of the payload (", " and ": "), not the bytes sent'),
    Fault("delivery-missing-headers", "deliveries", (OUTBOUND,),
          "deliveries arrive without X-AQID-Delivery-Id and X-AQID-Delivery-Attempt"),
    Fault("user-agent-wrong", "deliveries", (OUTBOUND,),
          'deliveries carry httpx\'s User-Agent, not "Amiqus AmiqusID/<build>"'),
    Fault("payload-missing-trigger", "deliveries", (OUTBOUND,),
          "the payload lacks `trigger` (triggered_at and the event alias)"),
    Fault("no-ping-on-create", "deliveries", (OUTBOUND, "v2 create", "v1 create"),
          "creating an enabled webhook sends no ping"),
    Fault("ping-on-disabled-create", "deliveries", (OUTBOUND, "v2 create", "v1 create"),
          "creating a disabled webhook sends it a ping"),
    Fault("no-ping-on-reenable", "deliveries", (OUTBOUND, "v2 update", "v1 update"),
          "re-enabling a webhook sends no ping"),
    Fault("routing-ignores-category", "deliveries", (OUTBOUND,),
          "`cat.*` subscriptions match nothing (only `*` and exact names route)"),
    Fault("routing-duplicates", "deliveries", (OUTBOUND,),
          "an event goes to a webhook once per matching name (['*', 'form.*'] gets it twice)"),
    Fault("disabled-webhooks-receive", "deliveries", (OUTBOUND,),
          "events are delivered to disabled webhooks too"),
    Fault("other-team-receives-events", "team isolation", (OUTBOUND,),
          "an event is delivered to every team's matching webhooks, not only its own team's"),
    Fault("no-retries", "deliveries", (OUTBOUND, "v2 deliveries", "v1 deliveries"),
          "a failed delivery is never retried"),
    Fault("delivery-id-changes-on-retry", "deliveries", (OUTBOUND,),
          "each retry carries a new X-AQID-Delivery-Id (it must stay the same)"),
    Fault("attempt-counter-stuck", "deliveries", (OUTBOUND,),
          "X-AQID-Delivery-Attempt is 1 on every attempt, retries included"),
    Fault("timeout-not-enforced", "deliveries", (OUTBOUND, "v2 deliveries", "v1 deliveries"),
          "the subscriber gets ten times the timeout: a slow 2xx counts as a success"),
    Fault("never-disabled", "deliveries", (OUTBOUND, "v2 retrieve", "v1 list"),
          "a webhook is never disabled, however many payloads fail"),
    Fault("delivery-log-status-int", "field names/types", ("v2 deliveries", "v1 deliveries"),
          'delivery logs show the status code as an integer (204), not a string ("204")'),
    Fault("delivery-log-oldest-first", "deliveries", ("v2 deliveries", "v1 deliveries"),
          "delivery logs list the oldest delivery first instead of the newest"),
    Fault("delivery-log-uuid-mismatch", "deliveries", ("v2 deliveries", "v1 deliveries"),
          "the log entry's uuid differs from the X-AQID-Delivery-Id that was sent"),
    Fault("v1-delivery-failed-inverted", "deliveries", ("v1 deliveries",),
          "v1 `failed` is true for a 2xx delivery and false for a failed one"),
)

VARIANTS: dict[str, Fault] = _catalogue(
    Fault("default-page-size-7", "pagination", ("v2 list", "v2 deliveries"),
          "v2 lists default to 7 items a page"),
    Fault("reordered-keys", "all JSON", OPERATIONS[:-1],
          "every JSON object has its keys in reverse order"),
    Fault("latency-50ms", "all responses", OPERATIONS[:-1],
          "every response is delayed by 50 ms"),
    Fault("extra-headers", "all responses", OPERATIONS[:-1],
          "unrelated extra headers (X-Request-Id, Server-Timing)"),
    Fault("extra-fields", "webhook objects", (*V2_SHOWS_WEBHOOK, *V1_SHOWS_WEBHOOK),
          'an undocumented extra field ("description": null) in every webhook'),
    Fault("prepopulated", "store", ("v2 list", "v1 list"),
          "a new database starts with 30 webhooks of two teams, some disabled, ids from 100000"),
    # -- the brief's Room: each takes the other allowed choice from the clean server --------
    Fault("url-length-capped-255", "validation", ("v2 create", "v2 update", "v1 create",
                                                  "v1 update"),
          "a url over 255 characters is 422 naming url (clean stores any length)"),
    Fault("page-beyond-int32-refused", "pagination", (*V2_LISTS, *V1_LISTS),
          "a page over 2147483647 is 422 naming page (clean: 200, past the end)"),
    Fault("huge-path-id-refused", "validation", ("v2 retrieve", "v2 update", "v2 delete",
                                                 "v2 deliveries", "v1 update", "v1 delete",
                                                 "v1 deliveries"),
          "a path id beyond 64 bits is 422 naming id (clean: the webhook 404)"),
    Fault("url-forms-strict", "validation", ("v2 create", "v2 update", "v1 create",
                                             "v1 update"),
          "only plain URL forms: IPv6, user info, fragments, non-ASCII or non-RFC-3986 are 422"),
    Fault("url-forms-percent-encoded", "webhook objects", ("v2 create", "v2 update",
                                                           "v1 create", "v1 update"),
          "non-ASCII and non-RFC-3986 characters in url are stored and shown percent-encoded"),
    Fault("lenient-encodings", "validation", (*V2_OPS, *V1_OPS),
          "query booleans yes/no/on/off/1/0, +/zero-led integers, string booleans, v2 events"
          " as one string, duplicate events: read the obvious way (clean: 422)"),
    Fault("json-charset", "all responses", OPERATIONS[:-1],
          "JSON responses say Content-Type: application/json; charset=UTF-8"),
    Fault("fractional-seconds", "timestamps", (*V1_SHOWS_WEBHOOK, "v2 deliveries",
                                               "v1 deliveries"),
          "v1 timestamps, last_sent_at, sent_at and last_delivered_at carry microseconds"),
    Fault("relative-links", "pagination", (*V2_LISTS, *V1_LISTS),
          "pagination links are relative (/api/v2/webhooks?page=2&limit=5), query reordered"),
    Fault("other-host-links", "pagination", (*V2_LISTS, *V1_LISTS),
          "pagination links are absolute on https://api.internal.invalid, query reordered"),
    Fault("events-reordered", "webhook objects", (*V2_SHOWS_WEBHOOK, *V1_SHOWS_WEBHOOK,
                                                  OUTBOUND),
          "events come back reverse sorted, not in the order sent (v1 string and payloads too)"),
    Fault("gzip", "all responses", OPERATIONS[:-1],
          "responses are gzip-compressed when the client accepts it (from 20 bytes)"),
    Fault("incidentals", "webhook objects", (*V2_SHOWS_WEBHOOK, *V1_SHOWS_WEBHOOK, OUTBOUND),
          'ids 5, 12, 19... (step 7), uuid version 7, secrets "whsec_" + 24 url-safe chars'),
    Fault("prepopulated-unusual", "store", ("v2 list", "v1 list", "v2 deliveries",
                                            "v1 deliveries"),
          "a new database starts with 150 webhooks (130 main team) with unusual allowed URLs,"
          " id gaps and delivery logs"),
    Fault("other-wording", "error bodies", (*V2_OPS, *V1_OPS),
          "422 messages, the 413 reason and the 429 message are worded differently"),
    Fault("rate-limited-200", "all responses", OPERATIONS[:-1],
          "200 requests per 60 s per user per team (whatever --rate-limit says), then 429"),
)


def describe_all() -> list[str]:
    """One line per fault and variant, for --list-faults."""
    def line(kind: str, item: Fault) -> str:
        where = ", ".join(item.operations)
        return f"{kind:8} {item.name:36} [{item.area}] {item.description}  ({where})"

    return [line("fault", f) for f in FAULTS.values()] + [
        line("variant", v) for v in VARIANTS.values()]
