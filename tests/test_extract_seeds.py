"""The five seed articles: as plain text, rendered into a portal page, and as undeclared GBK bytes.

Seeds and their answer key live in ../shared/seeds (skipped when absent). The answer key is only
read here; no value from it reaches the extraction code.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from crawler.extract import decode_html, extract_article, extract_plain_text, split_plain_text
from crawler.models import Article

SEEDS = Path(__file__).resolve().parents[1].parent / "shared" / "seeds"
pytestmark = pytest.mark.skipif(not (SEEDS / "expected.yaml").exists(), reason=f"no seeds at {SEEDS}")

_WS = re.compile(r"\s+")
_PROJECT_SENTENCE = re.compile(r"[^。！？\n]*(?:总投资|總投資)[^。！？\n]*")


def _answers() -> dict[str, dict[str, Any]]:
    if not (SEEDS / "expected.yaml").exists():
        return {}
    loaded: dict[str, Any] = yaml.safe_load((SEEDS / "expected.yaml").read_text(encoding="utf-8"))
    return dict(loaded["articles"])


ANSWERS = _answers()
NAMES = sorted(ANSWERS) or ["none"]


def squash(text: str | None) -> str:
    return _WS.sub("", text or "")


def render_portal_page(text: str) -> str:
    """A seed as a realistic local-portal article page (what the replay serves)."""
    parts = split_plain_text(text)
    headline = html.escape(parts.headline.strip()) if parts.headline else ""
    title = f"{headline} - 某某新闻网" if headline else "某某新闻网"
    meta = "　".join(html.escape(m.strip()) for m in parts.meta)
    body = "\n".join(f"<p>{html.escape(line.strip())}</p>" for line in parts.body if line.strip())
    h1 = f"<h1>{headline}</h1>" if headline else ""
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title></head>
<body>
<div class="header"><a href="/">首页</a> | <a href="/xw/">新闻</a> | <a href="/zs/">招商引资</a> |
<a href="/xm/">项目建设</a> | <a href="/hd/">互动</a></div>
<div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="/xw/">新闻</a> &gt; 正文</div>
<div class="article">{h1}
<div class="info">{meta}</div>
<div class="content">
{body}
</div></div>
<div class="related"><h3>相关新闻</h3><ul>
<li><a href="/a1.html">全市重点项目集中开工仪式举行</a></li>
<li><a href="/a2.html">市领导调研重点产业项目推进情况</a></li>
<li><a href="/a3.html">一季度全市招商引资工作综述</a></li></ul></div>
<div class="footer">版权所有 某某新闻网 | 联系我们 | 网站地图<br>京ICP备10004567号-2 京公网安备11010802001234号</div>
</body></html>"""


def _check(article: Article, name: str, raw: str) -> None:
    expected = ANSWERS[name]
    if expected["title"] is not None:  # a null title means the text carries no headline
        assert article.title == expected["title"]
    want = expected["published"]
    assert (article.published.isoformat() if article.published else None) == (str(want) if want else None)
    text = squash(article.text)
    for chrome in expected["chrome"]:
        assert squash(chrome).lower() not in text.lower(), chrome
    sentences = _PROJECT_SENTENCE.findall(raw)
    assert sentences, "every seed reports investment figures"
    for sentence in sentences:
        assert squash(sentence) in text, sentence


@pytest.mark.parametrize("name", NAMES)
def test_plain_text_seed(name: str) -> None:
    raw = (SEEDS / name).read_text(encoding="utf-8")
    article = extract_plain_text(raw)
    _check(article, name, raw)
    assert article.date_from == ("text" if ANSWERS[name]["published"] else None)
    if ANSWERS[name]["title"] is None:
        assert article.title is None


@pytest.mark.parametrize("name", NAMES)
def test_rendered_portal_page_seed(name: str) -> None:
    raw = (SEEDS / name).read_text(encoding="utf-8")
    article = extract_article(render_portal_page(raw), url=f"http://news.example.cn/{name}.html")
    _check(article, name, raw)
    for chrome in ("京ICP备10004567号", "当前位置", "相关新闻", "一季度全市招商引资工作综述", "网站地图"):
        assert chrome not in article.text


def test_gbk_page_without_any_charset() -> None:
    name = "002_8a03dec8ef9cc38d.txt"
    raw = (SEEDS / name).read_text(encoding="utf-8")
    page = render_portal_page(raw).replace('<meta charset="utf-8">', "")
    body = page.encode("gb18030")
    decoded = decode_html(body, "text/html")
    assert decoded.encoding == "gb18030"
    assert "\ufffd" not in decoded.text
    _check(extract_article(decoded.text), name, raw)


def test_split_keeps_leading_chrome_in_body() -> None:
    parts = split_plain_text((SEEDS / "003_ac38da60f2f9b33a.txt").read_text(encoding="utf-8"))
    assert parts.headline == "双鸭山晒出上半年招商成绩单"
    assert parts.meta == ["//shuangyashan.dbw.cn  2022-08-05 08:28:29"]
    assert parts.body[0] == "分享按钮"


def test_split_meta_first_means_no_headline() -> None:
    parts = split_plain_text((SEEDS / "001_adfb0228808a06f6.txt").read_text(encoding="utf-8"))
    assert parts.headline is None
    assert [m.strip() for m in parts.meta] == ["- 時間:2024-04-16", "- 點擊:78", "- 來源:甘肅日報"]
