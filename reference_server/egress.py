"""The egress guard: deliveries go only to allowed hosts, decided without any DNS lookup."""

from __future__ import annotations

from urllib.parse import urlsplit


def host_as_written(url: str) -> str:
    """The URL's host exactly as written (lower-cased, IPv6 brackets removed); no lookup.
    An unparsable URL (validation refuses one; only a fault stores it) has no host."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _host_the_client_would_contact(url: str) -> str | None:
    """The host httpx itself reads from `url` (None when it refuses the URL). The clean
    server accepts any absolute http(s) URL (room "url-forms": user info, backslashes,
    characters outside RFC 3986), so both parsers must agree before anything is sent."""
    import httpx

    try:
        return httpx.URL(url).host.lower()
    except (httpx.InvalidURL, ValueError, UnicodeError):
        return None


def refusal(url: str, allow_hosts: tuple[str, ...]) -> str | None:
    """None when the URL may be contacted, else why it may not (logged as the response)."""
    host = host_as_written(url)
    allowed = {name.lower() for name in allow_hosts}
    if host in allowed and _host_the_client_would_contact(url) == host:
        return None
    if host in allowed:
        return f"delivery not sent: the URL's host is ambiguous (read as '{host}' here)"
    return (f"delivery not sent: host '{host}' is not in the allowed hosts"
            f" ({', '.join(allow_hosts)})")
