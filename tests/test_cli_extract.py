"""`newsmon extract`: one file in any encoding, or a stream of JSON lines, as the crawler sees them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.answer_key import same_project
from tests.conftest import run_cli

FUSHUN = "002_8a03dec8ef9cc38d.txt"
PAGE = """<html><head><meta charset="gbk"><title>高新区集中签约_某某市人民政府</title></head><body>
<div class="nav"><a href="/">首页</a> <a href="/zsyz/">招商引资</a></div>
<h1>高新区集中签约</h1><div class="info">发布时间：2023-03-01 来源：某某日报</div>
<div class="TRS_Editor"><p>3月1日，高新区与江苏三木集团举行65万吨苯酚丙酮一体化产业链项目签约仪式，
项目总投资86.8亿元，总占地1607亩。</p>
<p>今年以来，全市共有12个项目实现签约，总签约额138.8亿元。</p></div>
<div class="footer">版权所有：某某市人民政府 京ICP备12345678号</div></body></html>"""


def test_extract_text_file_json(repo: Path, tmp_path: Path) -> None:
    result = run_cli("extract", "--json", str(repo / "seeds" / FUSHUN), cwd=repo)
    assert result.code == 0, result.stderr
    data = result.json()
    assert data["published"] == "2023-04-04"
    assert "京ICP备13017153号" not in data["text"]
    big = [p for p in data["projects"] if p["investment_yi"] and p["investment_yi"] >= 10]
    assert [p["investment_yi"] for p in big] == [86.8]
    assert same_project(big[0]["name"], "65万吨苯酚丙酮一体化产业链项目")
    kinds = {a["text"]: a["kind"] for a in data["amounts"]}
    assert any("138.8亿元" in text and kind == "aggregate" for text, kind in kinds.items()), kinds
    assert any("4.41亿元" in text and kind == "revenue" for text, kind in kinds.items()), kinds


def test_extract_gbk_html_from_stdin(repo: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "extract", "--json", "-"],
        input=PAGE.encode("gbk"),
        cwd=repo,
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    data = json.loads(proc.stdout)
    assert data["title"] == "高新区集中签约"
    assert data["published"] == "2023-03-01"
    assert "京ICP备" not in data["text"] and "首页" not in data["text"]
    assert [p["investment_yi"] for p in data["projects"] if p["investment_yi"]] == [86.8]


def test_extract_jsonl_stream_survives_bad_lines(repo: Path, tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_bytes(PAGE.encode("gbk"))
    lines = [
        json.dumps({"id": "t", "text": "投资5亿元的鸿展热电联产项目实现当年签约当年开工。"}, ensure_ascii=False),
        "{not json",
        json.dumps({"id": "h", "html": PAGE, "url": "http://x.gov.cn/a.html"}, ensure_ascii=False),
        json.dumps({"id": "missing"}),
        json.dumps({"id": "p", "path": str(page), "url": "http://x.gov.cn/a.html"}),
        json.dumps({"id": "gone", "path": str(tmp_path / "nope.html")}),
    ]
    proc = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "extract", "--jsonl"],
        input="\n".join(lines) + "\n",
        text=True,
        cwd=repo,
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o.get("id") for o in out] == ["t", None, "h", "missing", "p", "gone"]
    assert [bool(o.get("error")) for o in out] == [False, True, False, True, False, True]
    assert out[0]["projects"][0]["investment_yi"] == 5.0 and out[0]["projects"][0]["stage"] == "started"
    assert out[2]["title"] == out[4]["title"] == "高新区集中签约"  # html given inline or as a GBK file


def test_extract_missing_file_is_one_clear_line(repo: Path) -> None:
    result = run_cli("extract", "/nonexistent/page.html", cwd=repo)
    assert result.code == 2
    assert "cannot read /nonexistent/page.html" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_config_stops_with_file_and_key(repo: Path, tmp_path: Path) -> None:
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "rules.yaml").write_text((repo / "config" / "rules.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "newsmon.yaml").write_text("alerts:\n  sinks:\n    - kind: jsonl\n      pathh: x\n", encoding="utf-8")
    result = run_cli("replay", "--config", str(folder), cwd=tmp_path)
    assert result.code == 2
    assert f"{folder / 'newsmon.yaml'}: alerts.sinks[0].pathh: unknown key" in result.stderr
    assert "Traceback" not in result.stderr
