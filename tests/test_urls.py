"""An article fetched under two spellings of its URL is one article."""

from __future__ import annotations

import pytest

from crawler.dedup import canonical_url, content_hash


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("HTTP://WWW.Example.gov.cn:80/zsyz/t20230404_1.html", "http://www.example.gov.cn/zsyz/t20230404_1.html"),
        ("https://example.cn:443/a.html#top", "https://example.cn/a.html"),
        ("http://example.cn/a.html?utm_source=wx&id=3", "http://example.cn/a.html?id=3"),
        ("http://example.cn/art.jsp?b=2&a=1", "http://example.cn/art.jsp?a=1&b=2"),
        ("http://example.cn/col/col1/index.html", "http://example.cn/col/col1/"),
        ("http://example.cn/a.html;jsessionid=0A1B2C", "http://example.cn/a.html"),
    ],
)
def test_same_article_same_canonical_url(a: str, b: str) -> None:
    assert canonical_url(a) == canonical_url(b)


def test_different_articles_stay_different() -> None:
    assert canonical_url("http://example.cn/a.html?id=3") != canonical_url("http://example.cn/a.html?id=4")
    assert canonical_url("http://a.example.cn/x.html") != canonical_url("http://b.example.cn/x.html")


def test_content_hash_ignores_layout_and_script() -> None:
    simplified = "酒泉市今年计划实施各类项目806个，总投资4557亿元。"
    assert content_hash(simplified) == content_hash(" 酒泉市今年计划实施各类項目806个,\n總投資4557億元. ")
    assert content_hash(simplified) != content_hash("酒泉市今年计划实施各类项目807个，总投资4557亿元。")
