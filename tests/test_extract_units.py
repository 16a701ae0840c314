"""Unit tests of the extraction pieces: decoding, titles, dates, the chrome-line filter, plain text."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from crawler.extract import decode_html, extract_article, extract_plain_text, split_plain_text, strip_chrome
from crawler.extract.dates import labelled_date, parse_date
from crawler.extract.titles import clean_title

ARTICLE = "今年以来，全市新签约亿元以上项目四十二个，总投资超过三百亿元，项目建设跑出加速度。"

# --- decoding -------------------------------------------------------------------------------


def test_declared_gb2312_decodes_as_gb18030() -> None:
    body = '<meta charset="gb2312"><p>朱镕基</p>'.encode("gb18030")
    decoded = decode_html(body)
    assert decoded.encoding == "gb18030"
    assert "朱镕基" in decoded.text
    assert decoded.warnings == ()


def test_header_outranks_meta() -> None:
    body = '<meta charset="utf-8"><p>招商引资</p>'.encode("gb18030")
    assert decode_html(body, "text/html; charset=GBK").encoding == "gb18030"


def test_gb_label_on_utf8_bytes_is_corrected() -> None:
    body = '<meta charset="gb2312"><p>招商引资项目签约</p>'.encode()
    decoded = decode_html(body)
    assert decoded.encoding == "utf-8"
    assert "招商引资项目签约" in decoded.text
    assert any("utf-8" in w for w in decoded.warnings)


def test_utf8_bom_wins() -> None:
    decoded = decode_html(b"\xef\xbb\xbf<p>\xe9\xa1\xb9\xe7\x9b\xae</p>", "text/html; charset=gbk")
    assert decoded.text == "<p>项目</p>"


def test_truncated_utf8_has_one_replacement() -> None:
    body = "<p>项目建设</p>".encode()[:-8]  # cut inside 设
    decoded = decode_html(body)
    assert decoded.encoding == "utf-8"
    assert decoded.text.count("\ufffd") <= 1


def test_garbage_bytes_never_raise() -> None:
    decoded = decode_html(bytes(range(1, 256)) * 3, "text/html; charset=no-such-charset")
    assert isinstance(decoded.text, str)
    assert decoded.warnings


@settings(max_examples=60, deadline=None)
@given(
    st.binary(max_size=400),
    st.sampled_from([None, "text/html", "text/html; charset=utf-8", "charset=gbk", "charset=utf-16"]),
)
@example(b"\xffabc", "text/html; charset=utf-16")  # declared UTF-16, no byte-order mark: UnicodeError
def test_decode_never_raises(body: bytes, content_type: str | None) -> None:
    decode_html(body, content_type)


@settings(max_examples=30, deadline=None)
@given(st.text(alphabet="<>/=\"' abcdivphtml项目。\n&;!-", max_size=300))
def test_extract_article_never_raises(markup: str) -> None:
    article = extract_article(markup)
    assert isinstance(article.text, str)


# --- titles --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("包头市稀土高新区项目招引跑出新速度 -人生就是搏尊龙", "包头市稀土高新区项目招引跑出新速度"),
        ("某某项目开工建设_某某市人民政府", "某某项目开工建设"),
        ("某某项目开工建设 - 某某网", "某某项目开工建设"),
        ("某某项目开工建设|某某", "某某项目开工建设"),
        ("某某项目开工建设_要闻_某某市人民政府", "某某项目开工建设"),
        (
            "抚顺市“拼抢争实”抓招商上项目促增长——掀起“新热潮” 跑出“加速度",
            "抚顺市“拼抢争实”抓招商上项目促增长——掀起“新热潮” 跑出“加速度”",
        ),
        ("新华视界｜河北遵化：数字农机服务助力农业生产", "新华视界｜河北遵化：数字农机服务助力农业生产"),
        ("2023-2024年度重点项目清单发布", "2023-2024年度重点项目清单发布"),
        ("  ", None),
    ],
)
def test_clean_title(raw: str, expected: str | None) -> None:
    assert clean_title(raw) == expected


# --- dates ---------------------------------------------------------------------------------


def test_parse_date_forms() -> None:
    assert parse_date("2023-04-04 15:26") == date(2023, 4, 4)
    assert parse_date("2023年4月4日") == date(2023, 4, 4)
    assert parse_date("2023/04/04") == date(2023, 4, 4)
    assert parse_date("20230404") == date(2023, 4, 4)
    assert parse_date("2999-01-01") is None  # never a future date
    assert parse_date("2023-02-30") is None


def test_labelled_date_skips_drafting_date_and_prose() -> None:
    lines = ["成文日期：2022年01月27日", "北京时间2021年10月7日，飞船发射。", "发布日期：2022年01月28日"]
    assert labelled_date(lines) == date(2022, 1, 28)
    assert labelled_date(["發佈時間：2024-04-16"]) == date(2024, 4, 16)


def test_htmldate_guess_from_a_bare_year_is_dropped() -> None:
    page = f"<html><body><h1>招大引强</h1><p>2023年是项目攻坚突破年。{ARTICLE}</p><p>{ARTICLE}</p></body></html>"
    assert extract_article(page).published is None


# --- chrome filter -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "chrome",
    [
        "网站首页  |  京ICP备13017153号 |  网站地图  |  联系方式",
        "蒙公网安备 15020402000123号",
        "Copyright © 2018 某某网 All Rights Reserved",
        "版权所有 @ 双鸭山日报社 黑龙江东北网络台主办",
        "人 民 网 版 权 所 有 ，未 经 书 面 授 权 禁 止 使 用",
        "分享按钮",
        "分享到：",
        "打赏",
        "点击排行",
        "推荐图文",
        "相关文章",
        "更多>同类招商引资",
        "推广 热搜: 头套  口罩  手套  服务",
        "作者:    来源:    编辑:杨宏图",
        "责任编辑:吴淋淋",
        "（责任编辑：张三）",
        "- 點擊:78",
        "阅读量：1024",
        "微信截图_20230404152711",
        "IMG_1234.jpg",
        "本网首发",
        "扫一扫在手机打开当前页",
        "【打印本页】【关闭窗口】",
        "页面功能 【我来说两句】【热点排行】【推荐】【字体：大 中 小】【打印】",
        "当前位置：首页 > 新闻中心 > 本地要闻",
        "| 首页 | 新闻 | 股市 | 观点与评论 | 基金 | 外汇 |",
        "政府网站标识码：1500000001",
    ],
)
def test_chrome_lines_are_removed(chrome: str) -> None:
    assert strip_chrome(f"{ARTICLE}\n{chrome}\n{ARTICLE}") == f"{ARTICLE}\n{ARTICLE}"


@pytest.mark.parametrize(
    "content",
    [
        "核心提示：实现高质量发展，招大引强是关键一招",
        "该公司拥有多项发明专利和软件著作权，版权所有人授权其在全国范围内推广使用这些技术成果，带动了产业升级。",
        "记者：你们的项目什么时候投产？",
        "加压推动重大项目建设",  # a section heading between paragraphs
    ],
)
def test_content_lines_are_kept(content: str) -> None:
    text = f"{ARTICLE}\n{content}\n{ARTICLE}"
    assert strip_chrome(text) == text


def test_tail_of_short_lines_is_trimmed() -> None:
    text = f"{ARTICLE}\n\n责任编辑:吴淋淋\n\n本网首发\n\n丹阳视觉\n\n丹阳热点"
    assert strip_chrome(text) == ARTICLE


def test_notice_signature_and_date_are_kept() -> None:
    text = f"{ARTICLE}\n特此通告。\n吉林省人民政府\n2022年1月27日"
    assert strip_chrome(text) == text


def test_layout_table_rows_are_judged_cell_by_cell() -> None:
    text = f"| {ARTICLE} |\n| 编辑： 金金 | 来源： 21世纪经济报道 |\n| · | 伊春市长谈林权制度改革 |"
    assert strip_chrome(text) == ARTICLE


# --- plain text ----------------------------------------------------------------------------


def test_plain_text_headline_meta_body() -> None:
    text = f"某某项目集中开工 - 某某网\n\n发布时间：2023-05-06 来源：某某日报\n\n{ARTICLE}\n网站地图"
    parts = split_plain_text(text)
    assert parts.headline == "某某项目集中开工 - 某某网"
    assert parts.meta == ["发布时间：2023-05-06 来源：某某日报"]
    article = extract_plain_text(text)
    assert (article.title, article.published, article.source) == ("某某项目集中开工", date(2023, 5, 6), "某某日报")
    assert article.text == ARTICLE


def test_plain_text_sentence_first_line_is_not_a_headline() -> None:
    article = extract_plain_text(f"{ARTICLE}\n{ARTICLE}")
    assert article.title is None
    assert article.published is None


def test_empty_inputs() -> None:
    assert extract_plain_text("").text == ""
    assert extract_article("   ").warnings == ("empty document",)


def test_source_line_that_is_only_labels_gives_no_source() -> None:
    article = extract_plain_text(f"某某项目开工\n作者:    来源:    编辑:杨宏图\n{ARTICLE}")
    assert article.source is None
    article = extract_plain_text(f"某某项目开工\n- 來源:甘肅日報\n{ARTICLE}")
    assert article.source == "甘肅日報"
