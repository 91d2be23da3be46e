"""Link checks and the canonical form used to spot duplicate links."""

from __future__ import annotations

import pytest

from bot.domain.urls import check_http_url, normalize_url
from bot.errors import BadLink, UserError


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("HTTPS://Example.COM/News", "https://example.com/News"),
        ("https://example.com/news/", "https://example.com/news"),
        ("https://example.com:443/", "https://example.com"),
        ("http://example.com:80/x", "http://example.com/x"),
        ("https://example.com/x#comments", "https://example.com/x"),
        ("https://example.com/x?utm_source=tw&utm_medium=social&id=7", "https://example.com/x?id=7"),
        ("https://example.com/x?fbclid=1&gclid=2&mc_cid=3&mc_eid=4&ref=home&cmpid=5&ocid=6", "https://example.com/x"),
        ("https://example.com/x?b=2&a=1", "https://example.com/x?a=1&b=2"),
    ],
)
def test_spellings_of_one_link_normalise_equal(a, b):
    assert normalize_url(a) == normalize_url(b)


def test_keeps_what_matters():
    assert normalize_url("https://example.com:8443/Path/Case") == "https://example.com:8443/Path/Case"
    assert normalize_url("https://example.com/?tag=b&tag=a") == "https://example.com/?tag=b&tag=a"
    assert normalize_url("https://example.com/x?id=1") != normalize_url("https://example.com/x?id=2")


def test_google_news_links_are_kept_as_they_are():
    link = "https://news.google.com/rss/articles/CBMiXWh0dHBzOi8vd3d3LkV4YW1wbGU?oc=5&hl=en-US"
    assert normalize_url(link) == link


def test_never_raises_on_junk():
    assert normalize_url("  not a link ") == "not a link"
    assert normalize_url("http://example.com:99999/") == "http://example.com:99999/"


def test_accepts_http_and_https_links():
    assert check_http_url("  https://www.example.com/photo.jpg ") == "https://www.example.com/photo.jpg"
    assert check_http_url("http://example.com") == "http://example.com"


@pytest.mark.parametrize(
    "url",
    [
        "",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "/etc/passwd",
        "ftp://example.com/x",
        "data:image/png;base64,AAAA",
        "https://",
        "https://user:pass@example.com/",
        "https://example.com/a b",
        "https://example.com:99999/",
        "https://example.com/" + "a" * 2000,
    ],
)
def test_refuses_links_that_are_not_plain_http(url):
    with pytest.raises(BadLink) as caught:
        check_http_url(url)
    assert isinstance(caught.value, UserError) and caught.value.message
