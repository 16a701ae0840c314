"""Raw-byte fixtures (tests/fixtures/extract) through decode_html + extract_article, per manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from crawler.extract import decode_html, extract_article

FIXTURES = Path(__file__).parent / "fixtures" / "extract"
MANIFEST: dict[str, dict[str, Any]] = yaml.safe_load((FIXTURES / "manifest.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_fixture_matches_manifest(name: str) -> None:
    expected = MANIFEST[name]
    decoded = decode_html((FIXTURES / name).read_bytes(), expected.get("content_type"))
    assert decoded.encoding == expected["encoding"]
    assert decoded.text.count("\ufffd") <= expected.get("max_replacements", 0)
    if "decode_warning" in expected:
        assert any(expected["decode_warning"] in w for w in decoded.warnings), decoded.warnings

    article = extract_article(decoded.text, url=f"http://example.gov.cn/{name}")
    assert article.title == expected["title"]
    published = expected["published"]
    assert (article.published.isoformat() if article.published else None) == (str(published) if published else None)
    if "date_from" in expected:
        assert article.date_from == expected["date_from"]
    if "source" in expected:
        assert article.source == expected["source"]
    if "article_warning" in expected:
        assert any(expected["article_warning"] in w for w in article.warnings), article.warnings
    for needle in expected["must_include"]:
        assert needle in article.text, needle
    for needle in expected["must_not_include"]:
        assert needle not in article.text, needle


def test_every_fixture_is_in_the_manifest() -> None:
    files = {p.name for p in FIXTURES.iterdir() if p.name != "manifest.yaml"}
    assert files == set(MANIFEST)
