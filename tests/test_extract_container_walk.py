"""The gov content-container walk (crawler/extract/container.py): what a reader of the page sees.

Each test builds container markup the way TRS / Hanweb / VSB editors write it and checks the exact
text, one paragraph per line, both from ``container_text`` and through ``extract_article``.
"""

from __future__ import annotations

import lxml.html
from lxml.html import HtmlElement

from crawler.extract import extract_article
from crawler.extract.container import container_text

PARAGRAPH = "今年以来，全市新签约亿元以上项目四十二个，总投资超过三百亿元，项目建设跑出加速度。"


def container(inner: str, tag: str = 'div class="TRS_Editor"') -> HtmlElement:
    tree = lxml.html.document_fromstring(f"<html><body><{tag}>{inner}</{tag.split()[0]}></body></html>")
    found = tree.xpath("//body/*[1]")
    assert isinstance(found, list) and isinstance(found[0], HtmlElement)
    return found[0]


def page(inner: str, outside: str = "") -> str:
    return (
        "<html><head><title>项目签约_某某市人民政府</title></head><body>"
        '<div class="nav">首页 | 政务公开 | 招商引资</div><h1>项目签约</h1>'
        f'<div class="TRS_Editor">{inner}</div>{outside}'
        '<div class="footer">版权所有：某某市人民政府 京ICP备05070218号</div></body></html>'
    )


# --- lines ------------------------------------------------------------------------------------


def test_br_separated_paragraphs_are_lines_without_blank_ones() -> None:
    element = container("　　第一段内容。<br>　　第二段内容。<br/><br>&nbsp;<br>　　第三段内容。")
    assert container_text(element) == "第一段内容。\n第二段内容。\n第三段内容。"


def test_br_inside_paragraphs_and_blocks_mixed_with_loose_text() -> None:
    element = container("开头文字<p>甲段<br>乙段</p>中间文字<div><p>丙段</p></div>结尾文字")
    assert container_text(element) == "开头文字\n甲段\n乙段\n中间文字\n丙段\n结尾文字"


def test_inline_elements_join_without_added_spaces() -> None:
    element = container(
        '<p><font size="3">总投资<b>12</b><span style="color:red">亿元</span></font>的<a href="/x">项目</a>签约。</p>'
        "<p>Hello <b>bold</b> and <i>italic</i> text.</p>"
    )
    assert container_text(element) == "总投资12亿元的项目签约。\nHello bold and italic text."


def test_whitespace_is_collapsed_and_trimmed_like_trafilatura() -> None:
    element = container("<p>\n\t　　项目\n  一期\u00a0\u00a0工程 　</p><p> \u3000 </p><p>二期</p>")
    assert container_text(element) == "项目 一期 工程\n二期"


def test_double_escaped_entities_and_control_characters() -> None:
    element = container("<p>甲&amp;nbsp;乙&amp;amp;丙\u200b丁</p><p>e\u0301</p>")
    assert container_text(element) == "甲 乙&丙丁\né"  # the last one NFC-composed


def test_headings_and_preformatted_text_are_lines() -> None:
    element = container("<h3>一、总体要求</h3><p>正文。</p><pre>第一行\n  第二行\n\n</pre>")
    assert container_text(element) == "一、总体要求\n正文。\n第一行\n第二行"


# --- dropped content ----------------------------------------------------------------------------


def test_script_style_and_comments_inside_the_container_are_dropped_tails_kept() -> None:
    element = container(
        "<p>项目开工<script>document.write('广告');</script>建设。</p>"
        "<style>.x{color:red}</style><!-- 编辑备注 --><p>第二段<!--注释-->继续。</p>"
        "<noscript>请启用脚本</noscript><iframe src='/a'></iframe>"
    )
    assert container_text(element) == "项目开工建设。\n第二段继续。"


def test_hidden_elements_are_dropped() -> None:
    element = container(
        "<p>看得见的。</p>"
        '<div style="display:none">隐藏一</div><span style="DISPLAY: NONE">隐藏二</span>'
        '<p style="visibility: hidden">隐藏三</p><p hidden>隐藏四</p><p aria-hidden="true">隐藏五</p>'
        '<p style="overflow:hidden">溢出裁剪但看得见。</p>'
    )
    assert container_text(element) == "看得见的。\n溢出裁剪但看得见。"


def test_a_widget_form_is_dropped_but_a_page_wide_form_is_read() -> None:
    widget = container(f"<p>{PARAGRAPH}</p><form><label>您是否满意</label><input><button>提交</button>满意度</form>")
    assert container_text(widget) == PARAGRAPH
    wrapper = container(f"<form><p>{PARAGRAPH}</p><input type='hidden'></form>")
    assert container_text(wrapper) == PARAGRAPH


def test_a_date_in_a_time_element_stays_in_its_sentence() -> None:
    assert container_text(container("<p>会议于<time>2024年5月6日</time>召开。</p>")) == "会议于2024年5月6日召开。"


# --- lists and tables ---------------------------------------------------------------------------


def test_list_items_are_marked_lines_and_an_item_is_one_line() -> None:
    element = container(
        "<ul><li>第一项</li><li><p>第二项上半</p><p>第二项下半</p></li><li></li>"
        "<li>第三项<ul><li>子项</li></ul>第三项尾</li></ul><ol><li>编号项</li></ol>"
    )
    assert container_text(element) == ("- 第一项\n- 第二项上半 第二项下半\n- 第三项\n  - 子项\n第三项尾\n- 编号项")


def test_table_rows_are_pipe_lines_padded_to_the_widest_row() -> None:
    element = container(
        "<p>签约项目如下：</p><table><thead><tr><th>项目名称</th><th>金额</th><th>阶段</th></tr></thead>"
        '<tbody><tr><td>甲项目</td><td colspan="2">12亿元</td></tr><tr><td>乙项目</td></tr>'
        "<tr><td></td><td> </td></tr></tbody></table><p>以上项目年内开工。</p>"
    )
    assert container_text(element) == (
        "签约项目如下：\n| 项目名称 | 金额 | 阶段 |\n| 甲项目 | 12亿元 |  |\n| 乙项目 |  |  |\n以上项目年内开工。"
    )


def test_cell_blocks_join_with_spaces_and_pipes_are_escaped() -> None:
    element = container("<table><tr><td><p>第一段</p><p>第二段<br>第三行</p></td><td>A|B</td></tr></table>")
    assert container_text(element) == "| 第一段 第二段 第三行 | A\\|B |"


def test_nested_table_rows_follow_the_outer_rows() -> None:
    element = container(
        "<table><tr><td>外层说明<table><tr><td>内层甲</td><td>内层乙</td></tr></table>外层尾</td>"
        "<td>右栏</td></tr><tr><td>第二行</td><td>右二</td></tr></table>"
    )
    assert container_text(element) == ("| 外层说明 外层尾 | 右栏 |\n| 第二行 | 右二 |\n| 内层甲 | 内层乙 |")


def test_layout_table_in_an_article_reads_as_paragraphs() -> None:
    """Through the whole pipeline the chrome filter unwraps one-cell rows of a layout table."""
    inner = f"<table><tr><td><p>{PARAGRAPH}</p></td></tr><tr><td>第二段：{PARAGRAPH}</td></tr></table>"
    article = extract_article(page(inner))
    assert article.text == f"{PARAGRAPH}\n第二段：{PARAGRAPH}"


# --- through extract_article ----------------------------------------------------------------------


def test_a_container_holding_the_article_gives_its_text_only() -> None:
    inner = f"<p>　　{PARAGRAPH}</p><p>　　项目计划年内开工建设，{PARAGRAPH}</p>"
    article = extract_article(page(inner, "<p>相关新闻：别的文章</p>"))
    assert article.title == "项目签约"
    assert article.text == f"{PARAGRAPH}\n项目计划年内开工建设，{PARAGRAPH}"


def test_a_nearly_empty_container_falls_back_to_the_whole_page() -> None:
    """Under 80 characters the container is an empty template slot: the page's own text is used."""
    article_body = f'<div class="article">{"".join(f"<p>{PARAGRAPH}第{n}段。</p>" for n in range(1, 5))}</div>'
    slot = "<p>&nbsp;</p><p>附件：</p><p>" + "相关文件" * 9 + "</p>"  # 40 characters of text
    article = extract_article(page(slot, article_body))
    assert f"{PARAGRAPH}第1段。" in article.text
    assert f"{PARAGRAPH}第4段。" in article.text
    # 82 characters: the container is the article now, and the rest of the page is ignored
    filled = extract_article(page(slot + "<p>" + "相关文件" * 10 + "项</p>", article_body))
    assert PARAGRAPH not in filled.text


def test_the_walk_leaves_the_tree_untouched() -> None:
    element = container(
        f"<p>{PARAGRAPH}<script>x()</script></p><table><tr><td>a<table><tr><td>b</td></tr></table></td></tr></table>"
    )
    before = lxml.html.tostring(element)
    container_text(element)
    assert lxml.html.tostring(element) == before
