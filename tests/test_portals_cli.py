"""`newsmon sources check` through the real CLI: a saved page (no network), a served page, a source."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.portals_site import HanwebSite, TrsSite, serve_site
from tests.test_portals_crawl import write_config

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "portals"
MANIFEST = json.loads((FIXTURES / "manifest.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("entry", MANIFEST[:5], ids=[e["file"] for e in MANIFEST[:5]])
def test_check_saved_page(repo: Path, entry: dict[str, object]) -> None:
    result = run_cli(
        "sources", "check", "--html", str(FIXTURES / str(entry["file"])), "--url", str(entry["url"]), "--json", cwd=repo
    )
    assert result.code == 0, result.stderr
    data = result.json()
    assert data["url"] == entry["url"] and data["cms"] == entry["cms"]
    assert data["article_links"] == entry["article_links"] and data["next_pages"] == entry["next_pages"]
    assert data["first_article"] is None  # --html fetches nothing


def test_check_served_page_shows_first_article(repo: Path) -> None:
    site = HanwebSite(7)
    with serve_site(site) as base:
        url = f"{base}/col/col{site.column}/index.html"
        result = run_cli("sources", "check", "--url", url, "--json", cwd=repo)
        text = run_cli("sources", "check", "--url", url, cwd=repo)
    assert result.code == 0, result.stderr
    data = result.json()
    assert data["cms"] == "hanweb"
    assert data["article_links"] == [base + site.article_path(i) for i in site.newest_first()[:5]]
    first = data["first_article"]
    assert first["title"] == site.newest_first()[0].title and first["published"] == site.newest_first()[0].day
    assert "签约仪式" in first["first_lines"][0]
    assert "cms: hanweb" in text.stdout and "title: " in text.stdout


def test_check_named_source(tmp_path: Path, repo: Path) -> None:
    site = TrsSite(6)
    with serve_site(site) as base:
        write_config(tmp_path, repo, [{"name": "fushun", "list_urls": [f"{base}/zsyz/index.html"]}])
        result = run_cli("sources", "check", "fushun", "--json", "--config", str(tmp_path / "config"), cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert result.json()["cms"] == "trs" and len(result.json()["article_links"]) == 5


def test_check_unreachable_page_is_a_clear_error(repo: Path) -> None:
    result = run_cli("sources", "check", "--url", "http://127.0.0.1:9/none.html", cwd=repo)
    assert result.code == 2 and "cannot fetch" in result.stderr
