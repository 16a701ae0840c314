"""config/rules.yaml: validated strictly, errors naming the file and the dotted key."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from crawler.errors import ConfigError
from crawler.rules import RuleSet, load_ruleset, load_ruleset_file


@pytest.fixture(scope="module")
def data(repo: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((repo / "config" / "rules.yaml").read_text(encoding="utf-8"))
    return loaded


def broken(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(data)
    *parents, last = path.split(".")
    node = out
    for key in parents:
        node = node[key]
    if value is ...:
        del node[last]
    else:
        node[last] = value
    return out


def test_the_shipped_file_loads(repo: Path) -> None:
    rules = load_ruleset_file(repo / "config" / "rules.yaml")
    assert isinstance(rules, RuleSet)
    assert rules.threshold_yi == 10
    with pytest.raises(AttributeError):
        rules.threshold_yi = 5  # type: ignore[misc]  # frozen


@pytest.mark.parametrize(
    ("path", "value", "key"),
    [
        ("names.suffixs", ["项目"], "names.suffixs"),  # a misspelt key
        ("money.currencies.美元.rate", "seven", "money.currencies.美元.rate"),
        ("money.currencies.美元.rate", -1, "money.currencies.美元.rate"),
        ("money.currencies.美元.code", "dollar", "money.currencies.美元.code"),
        ("money.range_value", "middle", "money.range_value"),
        ("money.default_currency", "XXX", "money.default_currency"),
        ("kinds.cues.investment", [], "kinds.cues.investment"),
        ("kinds.cues.investment", ["总投资", ""], "kinds.cues.investment[1]"),
        ("kinds.cues_after.投资", "wealth", "kinds.cues_after.投资"),
        ("limits.max_amounts", 0, "limits.max_amounts"),
        ("threshold_yi", "ten", "threshold_yi"),
        ("text.sentence_ends", ["。", "!!"], "text.sentence_ends[1]"),
        ("names.strip_prefix_patterns", ["(unclosed"], "names.strip_prefix_patterns[0]"),
        ("stage.words.started", ..., "stage.words.started"),  # missing
        ("version", 2, "version"),
    ],
)
def test_bad_values_name_the_file_and_key(data: dict[str, Any], path: str, value: Any, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_ruleset(broken(data, path, value), "config/rules.yaml")
    assert info.value.file == "config/rules.yaml"
    assert info.value.key == key
    assert str(info.value).startswith(f"config/rules.yaml: {key}: ")


def test_unknown_top_level_key(data: dict[str, Any]) -> None:
    with pytest.raises(ConfigError) as info:
        load_ruleset({**data, "extra": 1}, "my.yaml")
    assert (info.value.file, info.value.key) == ("my.yaml", "extra")


def test_bad_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("version: 1\nmoney:\n  units: {亿: 1\n  bad: [\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_ruleset_file(path)
    assert info.value.file == str(path)
    assert "line " in str(info.value)


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_ruleset_file(tmp_path / "absent.yaml")
    (tmp_path / "empty.yaml").write_text("", encoding="utf-8")
    with pytest.raises(ConfigError, match="empty"):
        load_ruleset_file(tmp_path / "empty.yaml")


def test_vocabulary_is_data_a_new_cue_changes_the_kind(data: dict[str, Any]) -> None:
    from crawler.models import AmountKind
    from crawler.rules import find_amounts

    text = "该项目募资20亿元。"
    (amount,) = find_amounts(text, load_ruleset(data))
    assert amount.kind is AmountKind.OTHER  # 募资 is no cue of the shipped vocabulary
    more = copy.deepcopy(data)
    more["kinds"]["cues"]["investment"].append("募资")
    (amount,) = find_amounts(text, load_ruleset(more))
    assert amount.kind is AmountKind.INVESTMENT
    assert amount.text == "募资20亿元"


def test_importing_builds_no_converter(repo: Path) -> None:
    code = "import crawler.rules, crawler.rules.text as t; print(t._converter.cache_info().currsize)"
    out = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"
