"""The egress guard: deliveries go only to allowed hosts, decided without any DNS lookup."""

from __future__ import annotations

from urllib.parse import urlsplit


def host_as_written(url: str) -> str:
    """The URL's host exactly as written (lower-cased, IPv6 brackets removed); no lookup.
    An unparsable URL (only the v2-url-any-string fault lets one in) has no host."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def refusal(url: str, allow_hosts: tuple[str, ...]) -> str | None:
    """None when the URL may be contacted, else why it may not (logged as the response)."""
    host = host_as_written(url)
    if host in {allowed.lower() for allowed in allow_hosts}:
        return None
    return (f"delivery not sent: host '{host}' is not in the allowed hosts"
            f" ({', '.join(allow_hosts)})")
