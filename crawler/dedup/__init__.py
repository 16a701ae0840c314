"""Article identity: canonical URLs and exact-duplicate content hashes."""

from __future__ import annotations

import hashlib
import re

from w3lib.url import canonicalize_url, url_query_cleaner

from crawler.textnorm import fold_article

# Query parameters that name a visitor or a campaign, never a different article.
TRACKING_PARAMS = (
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "spm",
    "from",
    "jsessionid",
    "sessionid",
    "sid",
    "share_token",
    "isappinstalled",
    "scene",
    "clicktime",
)
_INDEX_PAGE = re.compile(r"/(index|default)\.(s?html?|php|aspx?|jsp)$", re.IGNORECASE)
_SESSION_PATH = re.compile(r";jsessionid=[^/?#]*", re.IGNORECASE)


def canonical_url(url: str) -> str:
    """One spelling per article: lowercase scheme/host, no default port, fragment, tracking or session params."""
    url = _SESSION_PATH.sub("", url.strip())
    url = url_query_cleaner(url, TRACKING_PARAMS, remove=True, keep_fragments=False)
    url = canonicalize_url(url, keep_fragments=False)
    scheme, sep, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    host = host.lower()
    if scheme == "http" and host.endswith(":80"):
        host = host[:-3]
    elif scheme == "https" and host.endswith(":443"):
        host = host[:-4]
    path_part, q, query = (slash + path).partition("?")
    path_part = _INDEX_PAGE.sub("/", path_part) or "/"
    return f"{scheme.lower()}{sep}{host}{path_part}{q}{query}"


def content_hash(text: str) -> str:
    """Hash of the folded clean text: the same article with other whitespace, punctuation or script is equal."""
    return hashlib.sha256(fold_article(text).encode("utf-8")).hexdigest()
