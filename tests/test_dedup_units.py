"""Pure parts of dedup and project identity: shingles, MinHash, band keys, name keys, match scores, config."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from pathlib import Path

import numpy as np
import opencc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.config import ProjectMatching, parse_app_config
from crawler.dedup import canonical_url
from crawler.dedup.minhash import (
    BANDS,
    BINS,
    estimated_similarity,
    fingerprint,
    jaccard,
    money_figures,
    signature,
)
from crawler.errors import ConfigError
from crawler.models import Project
from crawler.projects import company_key, match_score, name_key
from crawler.projects.identity import Known
from crawler.textnorm import fold, to_simplified

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SEED_000 = (SEEDS / "000_1430e31fc2ec91a0.txt").read_text(encoding="utf-8")


def test_band_keys_are_stable_across_versions_and_processes() -> None:
    # Persisted in the database: a change here means every stored article must be reindexed (bump SCHEME).
    fp = fingerprint("包头市稀土高新区项目招引跑出新速度，双良集团40gw单晶硅项目仍在如火如荼抢工期、赶进度。")
    assert fp.keys[:3] == (866355990767858828, 5294939725922573643, 3543726115649839790)
    assert len(set(fp.keys)) == BANDS


def test_traditional_script_and_punctuation_shingle_the_same() -> None:
    traditional = str(opencc.OpenCC("s2t").convert(SEED_000)).replace("，", ",").replace("。", ". ")
    a, b = fingerprint(SEED_000), fingerprint(traditional)
    assert jaccard(a.hashes, b.hashes) > 0.99
    assert a.keys == b.keys or len(set(a.keys) & set(b.keys)) >= BANDS - 1


@pytest.mark.parametrize("path", sorted(SEEDS.glob("*.txt")), ids=lambda p: p.name[:3])
def test_fast_fold_equals_the_plain_definition(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    plain = re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", to_simplified(text)).lower())
    assert fold(text) == plain


def test_signature_estimates_jaccard() -> None:
    rng = np.random.default_rng(3)
    errors = []
    for size in (60, 400, 3000):  # short sets exercise the densification of empty bins
        for _ in range(50):
            a = np.unique(rng.integers(0, 2**64, size, dtype=np.uint64))
            b = np.unique(np.concatenate([a[: int(size * 0.8)], rng.integers(0, 2**64, size // 5, dtype=np.uint64)]))
            sa, sb = signature(a), signature(b)
            assert sa is not None and sb is not None and sa.size == BINS
            errors.append(estimated_similarity(sa, sb) - jaccard(a, b))
    assert abs(float(np.mean(errors))) < 0.02 and float(np.std(errors)) < 0.06
    assert signature(np.empty(0, dtype=np.uint64)) is None


def test_unrelated_seeds_share_no_band() -> None:
    prints = [fingerprint(p.read_text(encoding="utf-8")) for p in sorted(SEEDS.glob("*.txt"))]
    for i, a in enumerate(prints):
        for b in prints[i + 1 :]:
            assert jaccard(a.hashes, b.hashes) < 0.1
            assert not set(a.keys) & set(b.keys)


def test_money_figures_are_normalised() -> None:
    assert money_figures("总投资86.8亿元，占地1607亩，纳税4215 万元；８６．８億") == {"86.8亿", "4215万"}


def test_canonical_url_variants() -> None:
    base = canonical_url("http://www.example.gov.cn/zsyz/202311/t20231101_1.html")
    assert canonical_url("http://WWW.example.gov.cn:80/zsyz/202311/t20231101_1.html?from=timeline#p2") == base
    assert canonical_url("http://www.example.gov.cn/zsyz/202311/t20231101_1.html;jsessionid=AB12?spm=1.2") == base
    assert canonical_url("http://www.example.gov.cn/zsyz/index.shtml") == canonical_url(
        "http://www.example.gov.cn/zsyz/"
    )


def mention(name: str, company: str | None = None, yi: str | None = None, phase: str | None = None) -> Project:
    return Project(name, company, Decimal(yi) if yi else None, phase=phase)


def known(name: str, company: str | None = None, region: str | None = None, yi: str | None = None) -> Known:
    return Known(name_key(name, company), company, region, Decimal(yi) if yi else None)


def score(m: Project, k: Known, region: str | None = None) -> float:
    return match_score(name_key(m.name, m.company), m, region, k, ProjectMatching()).score


def test_name_keys_fold_script_company_and_suffixes() -> None:
    assert name_key("双良集团40GW单晶硅项目", "双良集团") == "40gw单晶硅"
    assert name_key("雙良集團40GW單晶硅項目一期", "雙良集團") == "40gw单晶硅"
    assert name_key("双良40GW单晶硅建设项目", "双良节能系统股份有限公司") == "双良40gw单晶硅"
    assert company_key("江苏三木集团有限公司") == "江苏三木"


def test_same_project_worded_differently_matches() -> None:
    stored = known("双良集团40gw单晶硅项目", "双良集团", "内蒙古自治区 包头市", "100")
    assert score(mention("双良集团40GW单晶硅项目", "双良集团", "100"), stored) >= 100
    assert score(mention("双良40GW单晶硅项目"), stored, "包头市") >= 85  # no company, the name contains the key
    assert score(mention("雙良集團40GW單晶硅項目", "雙良集團"), stored) >= 85


def test_different_projects_do_not_match() -> None:
    stored = known("金力永磁年产20000吨稀土永磁材料项目", "金力永磁", yi="20")
    assert score(mention("金力永磁年产5000吨稀土永磁材料项目", "金力永磁", "3.9"), stored) == 0  # numbers differ
    other_company = known("高性能稀土永磁材料项目", "大地熊", yi="3.9")
    assert score(mention("高性能稀土永磁材料项目", "宁波韵升", "3.9"), other_company) < 85
    far = known("新能源产业园项目", None, "甘肃省 酒泉市")
    assert score(mention("新能源产业园项目"), far, "辽宁省 抚顺市") < score(mention("新能源产业园项目"), far)


def test_amounts_weigh_in_unless_a_phase_is_meant() -> None:
    stored = known("中船集团清洁能源装备制造基地项目", "中船集团", yi="177")
    whole = score(mention("中船集团清洁能源装备制造基地项目", "中船集团", "177"), stored)
    partial = score(mention("中船集团清洁能源装备制造基地项目", "中船集团", "15"), stored)
    phase = score(mention("中船集团清洁能源装备制造基地项目", "中船集团", "15", phase="一期"), stored)
    assert whole > phase > partial


def test_matching_config(tmp_path: Path) -> None:
    path = tmp_path / "newsmon.yaml"
    path.write_text("matching:\n  name_similarity: 90\n  near_duplicate: 0.85\n  company_penalty: 20\n", "utf-8")
    matching = parse_app_config(path).matching
    assert (matching.name_similarity, matching.near_duplicate, matching.company_penalty) == (90, 0.85, 20)
    path.write_text("matching:\n  near_duplicate: 80\n", "utf-8")
    with pytest.raises(ConfigError, match="near_duplicate"):
        parse_app_config(path)
    path.write_text("matching:\n  near_dup: 0.8\n", "utf-8")
    with pytest.raises(ConfigError, match="near_dup"):
        parse_app_config(path)
    path.write_text("matching:\n  name_similarity: 0\n", "utf-8")
    with pytest.raises(ConfigError, match="name_similarity"):
        parse_app_config(path)


@settings(max_examples=300, deadline=None)
@given(
    key=st.text(alphabet="产业园新能源光伏项目一期5万吨锂电池基地", min_size=2, max_size=14),
    names=st.lists(st.text(alphabet="产业园新能源光伏项目一期5万吨锂电池基地", min_size=1, max_size=16), max_size=30),
    floor=st.sampled_from([60.0, 75.0, 90.0, 96.0]),
)
def test_plausible_candidates_are_exactly_those_that_can_reach_the_threshold(
    key: str, names: list[str], floor: float
) -> None:
    """The C-loop prefilter keeps every candidate the full scoring could merge, in order, and no other."""
    from crawler.projects import name_similarity
    from crawler.projects.candidates import plausible

    keys = [(1000 - i, name) for i, name in enumerate(names)]
    expected = [pid for pid, name in keys if name_similarity(key, name) >= floor]
    assert plausible(key, keys, floor) == expected
