"""The seeds replay end to end: the real CLI, the real spider and pipelines, a real local HTTP portal.

The answer key is ../shared/seeds/expected.yaml; nothing from it feeds the code.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, text

from tests.answer_key import same_project
from tests.conftest import CliResult, run_cli


@pytest.fixture(scope="module")
def expected(shared_seeds: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((shared_seeds / "expected.yaml").read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory, repo: Path) -> Path:
    """What `make run` replays: the project's own copy of the seeds and its shipped config."""
    work = tmp_path_factory.mktemp("replay")
    shutil.copytree(repo / "seeds", work / "seeds")
    shutil.copytree(repo / "config", work / "config")
    return work


@pytest.fixture(scope="module")
def first(workdir: Path) -> CliResult:
    result = run_cli("replay", "--json", cwd=workdir)
    assert result.code == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def second(workdir: Path, first: CliResult) -> CliResult:
    result = run_cli("replay", "--json", cwd=workdir)
    assert result.code == 0, result.stderr[-3000:]
    return result


def stored_articles(workdir: Path) -> list[dict[str, Any]]:
    engine = create_engine(f"sqlite:///{workdir / 'data' / 'newsmon.db'}")
    with engine.connect() as conn:
        rows = conn.execute(text("select url, title, published, text, encoding from articles order by url"))
        return [dict(r._mapping) for r in rows]


def matching_article(articles: list[dict[str, Any]], seed: dict[str, Any]) -> dict[str, Any]:
    """The stored article holding a seed's first project or first not-project figure."""
    anchors = [p["name"] for p in seed.get("projects", [])] + list(seed.get("not_projects", []))
    for article in articles:
        if any(a in article["text"] for a in anchors[:1]):
            return article
    raise AssertionError(f"no stored article holds {anchors[:1]}")


def test_replay_raises_exactly_the_expected_alerts(first: CliResult, expected: dict[str, Any]) -> None:
    report = first.json()
    alerts = report["alerts"]
    wanted = expected["expected_alerts"]
    amounts = {p["name"]: p["investment_yi"] for s in expected["articles"].values() for p in s["projects"]}
    for name in wanted:
        hits = [a for a in alerts if same_project(a["project"], name)]
        assert hits, f"missing alert for {name}: got {[a['project'] for a in alerts]}"
        assert any(abs(a["investment_yi"] - amounts[name]) < 1e-6 for a in hits), (name, hits)
    # Every alert is one of the expected ones; the second 中船 entry (same base, narrower scope) is tolerated.
    tolerated = [p["name"] for s in expected["articles"].values() for p in s["projects"] if p.get("same_as")]
    for alert in alerts:
        assert any(same_project(alert["project"], n) for n in wanted + tolerated), f"unexpected alert {alert}"
    assert len(alerts) <= len(wanted) + len(tolerated)


def test_no_aggregate_output_or_revenue_figure_is_a_project(
    first: CliResult, workdir: Path, expected: dict[str, Any]
) -> None:
    projects = first.json()["projects"]
    articles = stored_articles(workdir)
    for name, seed in expected["articles"].items():
        url = matching_article(articles, seed)["url"]
        found = [p for p in projects if p["article_url"] == url and p["investment_yi"] is not None]
        for figure in seed.get("not_projects", []):
            value = _figure_value(figure)
            if value is None:
                continue
            clashing = [p for p in found if abs(p["investment_yi"] - value) < 1e-6]
            assert not clashing, f"{name}: {figure} taken as a project's investment: {clashing}"


def _figure_value(figure: str) -> float | None:
    import re

    match = re.search(r"(\d+(?:\.\d+)?)(亿|億|万)", figure)
    if not match or "美元" in figure:
        return None
    number = float(match.group(1))
    return number / 10000 if match.group(2) == "万" else number


def test_report_counts_and_sinks(first: CliResult, workdir: Path, expected: dict[str, Any]) -> None:
    report = first.json()
    n = len(expected["articles"])
    assert report["articles"] == {"fetched": n, "new": n, "duplicate": 0}
    lines = (workdir / "data" / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    delivered = [json.loads(line)["project"] for line in lines]
    assert sorted(delivered) == sorted(a["project"] for a in report["alerts"])
    assert "newsmon 新大项目" not in first.stdout  # console alerts go to stderr, JSON stays parseable
    assert "新大项目" in first.stderr


def test_stored_titles_dates_and_clean_text(first: CliResult, workdir: Path, expected: dict[str, Any]) -> None:
    articles = stored_articles(workdir)
    assert len(articles) == len(expected["articles"])
    for name, seed in expected["articles"].items():
        article = matching_article(articles, seed)
        assert article["title"] == seed["title"], name
        published = str(seed["published"]) if seed["published"] else None
        assert (str(article["published"]) if article["published"] else None) == published, name
        for chrome in seed["chrome"]:
            assert chrome not in article["text"], f"{name}: chrome {chrome!r} left in the stored text"
        assert "\ufffd" not in article["text"] and "\ufffd" not in (article["title"] or "")


def test_traditional_and_gbk_articles_stored_as_written(first: CliResult, workdir: Path) -> None:
    articles = stored_articles(workdir)
    traditional = [a for a in articles if "酒泉鴻合新能源" in a["text"]]
    assert traditional, "the Traditional-Chinese article is not stored in its own script"
    assert "總投資4557億元" in traditional[0]["text"]
    gbk = [a for a in articles if a["encoding"] and a["encoding"].lower() in {"gbk", "gb18030", "gb2312"}]
    assert len(gbk) == 1
    assert "总投资" in gbk[0]["text"] and gbk[0]["title"]


def test_second_replay_finds_nothing_new(second: CliResult) -> None:
    report = second.json()
    assert report["articles"] == {"fetched": 0, "new": 0, "duplicate": 0}
    assert report["alerts"] == [] and report["projects"] == []
    assert report["pages_fetched"] <= 2  # robots.txt and the first list page: every link on it is known
