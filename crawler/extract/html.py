"""Extract an Article from decoded HTML: meta facts, trafilatura main text, chrome filter."""

from __future__ import annotations

from datetime import date

import lxml.html
from lxml import etree
from lxml.html import HtmlElement

from crawler.extract.chrome import strip_chrome
from crawler.extract.container import container_text
from crawler.extract.dates import date_after_headline, htmldate_date, labelled_date
from crawler.extract.meta import read_meta
from crawler.extract.patterns import (
    CONTENT_CONTAINER_XPATHS,
    SOURCE_LINE_RE,
    STRAY_END_TAGS_RE,
    XML_DECL_RE,
)
from crawler.extract.titles import choose_title, clean_title, normalize_space
from crawler.models import Article

_CONTAINER_MIN_CHARS = 80  # a gov content container with less text is an empty template slot
_LABEL_SCAN_LINES = 400  # the info bar sits above the article; no need to read the whole footer
_NON_VISIBLE = frozenset({"script", "style", "noscript", "template", "title", "head"})
_CONTAINER_XPATHS = tuple(etree.XPath(xpath) for xpath in CONTENT_CONTAINER_XPATHS)
# lxml.html's parser picks each element's class (FormElement, InputElement …) in a Python callback, run
# for every element a walk touches; nothing here uses those classes' extras, so every element is a plain
# HtmlElement, chosen in C: a whole-page walk costs a third of what it did. Module-level like lxml.html's
# own parser: it keeps no document between calls.
_PARSER = lxml.html.HTMLParser()
_PARSER.set_element_class_lookup(
    etree.ElementDefaultClassLookup(
        element=HtmlElement,
        comment=lxml.html.HtmlComment,
        pi=lxml.html.HtmlProcessingInstruction,
        entity=lxml.html.HtmlEntity,
    )
)


def preclean(html: str) -> str:
    """Make markup safe for libxml2: no stray </html>/</body>, no XML declaration, no NULs."""
    html = XML_DECL_RE.sub("", html, count=1).replace("\x00", "")
    # libxml2 stops reading at a stray </html> that a server-side include put before the article.
    return STRAY_END_TAGS_RE.sub("", html)


def parse_tree(html: str) -> HtmlElement | None:
    try:
        tree = lxml.html.document_fromstring(html, parser=_PARSER)
    except (etree.ParserError, ValueError, TypeError):
        return None
    return tree


def visible_lines(tree: HtmlElement) -> list[str]:
    """The page's visible text, one line per text node, for labelled-date and 来源 lookups.

    Element by element (comments and processing instructions skipped), its text then its tail.
    """
    lines: list[str] = []
    body = tree.find("body")
    root = body if body is not None else tree
    for element in root.iter(etree.Element):
        if element.tag in _NON_VISIBLE:
            continue
        # Most text nodes are the indentation between tags: skip them before normalising.
        text, tail = element.text, element.tail
        if text and not text.isspace():
            lines.append(normalize_space(text))
        if tail and not tail.isspace():
            lines.append(normalize_space(tail))
    return lines


def _headings(tree: HtmlElement) -> list[str]:
    headings: list[str] = []
    for heading in tree.iter("h1", "h2"):
        text = heading.text_content()
        if text.strip():
            headings.append(normalize_space(text))
    return headings


def _container_text(tree: HtmlElement) -> str | None:
    """Text of a known gov content container (TRS_Editor, UCAP, zoom …) when one holds the article."""
    for xpath in _CONTAINER_XPATHS:
        for element in xpath(tree):
            text = container_text(element)
            if len(text) >= _CONTAINER_MIN_CHARS:
                return text
    return None


def _main_text(html: str, tree: HtmlElement, url: str | None) -> tuple[str, str | None]:
    """Main text (gov container first, else trafilatura on the whole page) and trafilatura's title."""
    container = _container_text(tree)
    if container:
        # A gov CMS container holds the article and nothing else: no need to score the whole page.
        return container, None
    import trafilatura  # here: a crawl that extracts nothing (a re-crawl) never loads it (~0.15 s)

    document = trafilatura.bare_extraction(
        html, url=url, favor_recall=True, include_comments=False, with_metadata=True, deduplicate=False
    )
    title = getattr(document, "title", None) if document is not None else None
    text = getattr(document, "text", None) if document is not None else None
    return (text or ""), title


def _find_date(
    meta_date: date | None, lines: list[str], title: str | None, tree: HtmlElement, url: str | None, html: str
) -> tuple[date | None, str | None]:
    if meta_date is not None:
        return meta_date, "meta"
    found = labelled_date(lines[:_LABEL_SCAN_LINES]) or date_after_headline(lines, title)
    if found is not None:
        return found, "text"
    found = htmldate_date(tree, url, html)
    return (found, "htmldate") if found is not None else (None, None)


def _find_source(meta_source: str | None, lines: list[str]) -> str | None:
    if meta_source:
        return meta_source
    for line in lines[:_LABEL_SCAN_LINES]:
        match = SOURCE_LINE_RE.search(line)
        if match:
            return match.group(1)
    return None


def _drop_title_line(text: str, title: str | None) -> str:
    """trafilatura sometimes repeats the headline as the first line; the title field has it."""
    if not title:
        return text
    first, _, rest = text.partition("\n")
    return rest.lstrip("\n") if clean_title(first) == title else text


def extract_article(html: str, url: str | None = None) -> Article:
    """Title, date, source and clean main text of an article page. Never raises on bad markup."""
    if not html or not html.strip():
        return Article(url=url, title=None, published=None, text="", warnings=("empty document",))
    cleaned = preclean(html)
    tree = parse_tree(cleaned)
    if tree is None:
        return Article(url=url, title=None, published=None, text="", warnings=("unparseable HTML",))
    warnings: list[str] = []
    meta = read_meta(tree)
    lines = visible_lines(tree)
    try:
        text, traf_title = _main_text(cleaned, tree, url)
    except Exception as error:  # trafilatura on hostile markup: keep the metadata, report the loss
        text, traf_title = "", None
        warnings.append(f"main-text extraction failed: {type(error).__name__}")
    title_element = next(tree.iterdescendants("title"), None)  # tree.find(".//title"), without ElementPath
    title_tag = title_element.text_content() if title_element is not None else None
    page_titles = [t for t in (meta.page_title, title_tag) if t]
    title = choose_title(meta.title, page_titles, _headings(tree), traf_title)
    if title and meta.site_name and clean_title(meta.site_name) == title:
        title = None  # the page names only its site: the article has no headline of its own
    published, date_from = _find_date(meta.published, lines, title, tree, url, cleaned)
    text = _drop_title_line(strip_chrome(text), title)
    if not text:
        warnings.append("no main text found")
    return Article(
        url=url,
        title=title,
        published=published,
        text=text,
        source=_find_source(meta.source, lines),
        date_from=date_from,
        warnings=tuple(warnings),
    )
