"""URL checks and normalisation: one canonical form per link, for duplicate detection across feeds and media."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bot.errors import BadLink

MAX_URL_LENGTH = 2000

# Query parameters that only say where a click came from; two links differing in them are one page.
_TRACKING_EXACT = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid",
        "mc_cid", "mc_eid", "_hsenc", "_hsmi", "mkt_tok", "ref", "ref_src", "ref_url", "referrer",
        "cmpid", "ocid", "ncid", "smid", "sr_share", "spm", "at_medium", "at_campaign",
        "soc_src", "soc_trk", "wt.mc_id", "wt_mc_id", "cmp", "__twitter_impression",
    }
)
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "at_custom", "vero_")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Google News wraps every story in an opaque redirect that only Google can resolve.
_GOOGLE_NEWS = re.compile(r"^https?://news\.google\.com/(rss/)?articles/", re.IGNORECASE)


def check_http_url(url: str) -> str:
    """The URL, trimmed, if it is an absolute http(s) link fanbot accepts; otherwise BadLink."""
    url = (url or "").strip()
    if not url:
        raise BadLink("link.empty")
    if len(url) > MAX_URL_LENGTH:
        raise BadLink("link.too_long", limit=MAX_URL_LENGTH)
    if any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        raise BadLink("link.spaces")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise BadLink("link.invalid") from None
    if parts.scheme.lower() not in _DEFAULT_PORTS:
        raise BadLink("link.scheme")
    if not parts.hostname:
        raise BadLink("link.no_host")
    if parts.username is not None or parts.password is not None:
        raise BadLink("link.credentials")
    return url


def _is_tracking(name: str) -> bool:
    name = name.lower()
    return name in _TRACKING_EXACT or name.startswith(_TRACKING_PREFIXES)


def normalize_url(url: str) -> str:
    """The canonical form of a link, so that trivially different spellings compare equal.

    Lower-case scheme and host, no default port, no fragment, no tracking parameters, the rest of
    the query sorted, no trailing slash. Path case is kept (servers treat it as significant).
    Google News article links are kept as they are. Never raises: text that does not parse as a
    URL comes back trimmed.
    """
    url = (url or "").strip()
    if _GOOGLE_NEWS.match(url):
        return url
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if not scheme or not host:
        return url
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    if parts.username is not None:
        auth = parts.username + (f":{parts.password}" if parts.password is not None else "")
        netloc = f"{auth}@{netloc}"
    path = parts.path.rstrip("/")
    # Sort by name only: a stable sort keeps repeated parameters (?tag=a&tag=b) in their order.
    query = sorted(
        ((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)),
        key=lambda pair: pair[0],
    )
    if query and not path:
        path = "/"
    return urlunsplit((scheme, netloc, path, urlencode(query), ""))
