"""Config is parsed once; a mistake stops newsmon at start with the file and key named."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from crawler.alerts.notifiers import ConsoleNotifier, JsonlNotifier
from crawler.config import load_config
from crawler.errors import ConfigError


@pytest.fixture
def folder(tmp_path: Path, config_dir: Path) -> Path:
    target = tmp_path / "config"
    target.mkdir()
    shutil.copy(config_dir / "rules.yaml", target / "rules.yaml")
    return target


def test_shipped_config_loads_with_replay_defaults(config_dir: Path) -> None:
    config = load_config(config_dir)
    assert config.app.alert_rules[0].min_investment_yi == Decimal(10)
    assert config.app.database_url.startswith("sqlite:///")
    assert {type(n) for n in config.app.notifiers} == {ConsoleNotifier, JsonlNotifier}


def test_missing_optional_files_take_defaults(folder: Path) -> None:
    config = load_config(folder)
    assert config.sources == ()
    assert config.app.alert_rules[0].min_investment_yi == Decimal(10)
    assert [n.name for n in config.app.notifiers] == ["console", "jsonl"]


@pytest.mark.parametrize(
    ("filename", "content", "key", "problem"),
    [
        ("newsmon.yaml", "alerts:\n  threshhold_yi: 5\n", "alerts.threshhold_yi", "unknown key"),
        ("newsmon.yaml", "alerts:\n  threshold_yi: ten\n", "alerts.threshold_yi", "expected a number"),
        ("newsmon.yaml", "alerts:\n  sinks:\n    - kind: pager\n", "alerts.sinks[0].kind", "unknown notifier"),
        ("newsmon.yaml", "crawl:\n  concurrent_per_host: 0\n", "crawl.concurrent_per_host", ">= 1"),
        ("newsmon.yaml", "crawl:\n  concurrent_total: many\n", "crawl.concurrent_total", "whole number"),
        ("newsmon.yaml", "database: sqlite:///x.db\n", "database", "expected a mapping"),
        ("sources.yaml", "sources:\n  - name: a\n    list_urls: [ftp://x]\n", "sources[0].list_urls", "http"),
        (
            "sources.yaml",
            "sources:\n  - name: a\n    list_urls: [http://x/]\n    pages: 3\n",
            "sources[0].pages",
            "unknown",
        ),
        (
            "sources.yaml",
            "sources:\n  - {name: a, list_urls: [http://x/]}\n  - {name: a, list_urls: [http://y/]}\n",
            "sources",
            "unique",
        ),
    ],
)
def test_bad_value_names_file_and_key(folder: Path, filename: str, content: str, key: str, problem: str) -> None:
    (folder / filename).write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(folder)
    message = str(caught.value)
    assert message.startswith(f"{folder / filename}: {key}: "), message
    assert problem in message


def test_broken_yaml_names_file_and_line(folder: Path) -> None:
    (folder / "newsmon.yaml").write_text("alerts:\n  threshold_yi: [10\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(folder)
    assert str(folder / "newsmon.yaml") in str(caught.value)
    assert "line" in str(caught.value)


def test_database_url_precedence(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (folder / "newsmon.yaml").write_text("database:\n  url: sqlite:///from-file.db\n", encoding="utf-8")
    assert load_config(folder).app.database_url == "sqlite:///from-file.db"
    monkeypatch.setenv("NEWSMON_DATABASE_URL", "sqlite:///from-env.db")
    assert load_config(folder).app.database_url == "sqlite:///from-env.db"
    assert load_config(folder, "sqlite:///from-flag.db").app.database_url == "sqlite:///from-flag.db"


def test_alert_rules_and_sources_parse(folder: Path) -> None:
    (folder / "newsmon.yaml").write_text(
        "alerts:\n  threshold_yi: 5\n  rules:\n    - name: big\n    - name: baotou\n      min_investment_yi: 1\n"
        "      regions: [包头]\n  sinks:\n    - kind: jsonl\n      path: out/a.jsonl\n",
        encoding="utf-8",
    )
    (folder / "sources.yaml").write_text(
        "sources:\n  - name: 包头招商\n    region: 内蒙古 包头市\n    list_urls: [http://example.gov.cn/zsyz/]\n"
        "    enabled: false\n",
        encoding="utf-8",
    )
    config = load_config(folder)
    big, baotou = config.app.alert_rules
    assert (big.name, big.min_investment_yi) == ("big", Decimal(5))  # the threshold is the rules' default
    assert (baotou.min_investment_yi, baotou.regions) == (Decimal(1), ("包头",))
    [sink] = config.app.notifiers
    assert isinstance(sink, JsonlNotifier) and sink.path == Path("out/a.jsonl")
    assert config.source("包头招商").enabled is False
    with pytest.raises(ConfigError, match="no source named"):
        config.source("nope")


def test_libyaml_and_pure_python_yaml_read_every_shipped_file_alike(config_dir: Path) -> None:
    """parse_yaml takes libyaml's loader for speed: it must read what PyYAML's own reads."""
    import yaml

    from crawler.yamlcheck import parse_yaml

    repo = config_dir.parent
    files = [
        *config_dir.glob("*.yaml"),
        *(repo / "tests" / "fixtures").rglob("*.yaml"),
        *(repo / "seeds").glob("*.yaml"),
    ]
    assert len(files) >= 4
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert parse_yaml(text) == yaml.load(text, Loader=yaml.SafeLoader), path


@pytest.mark.parametrize("broken", ["alerts:\n  threshold_yi: [10\n", "a: 1\n b: 2\n", "rules: {x: 1\n"])
def test_broken_rules_yaml_names_the_line(folder: Path, broken: str) -> None:
    (folder / "rules.yaml").write_text(broken, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(folder)
    assert "rules.yaml" in str(caught.value) and "line" in str(caught.value), caught.value
