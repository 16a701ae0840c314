"""Text of a gov CMS content container (TRS_Editor, UCAP, zoom …), read straight off the lxml tree.

The container holds the article and nothing else, so no boilerplate scoring is needed: a direct
walk gives the lines trafilatura gave for the serialized fragment, at a fraction of the cost.
It renders them the way trafilatura's plain-text output does:

- a block (p, div, h1-h6, li, blockquote …) or a ``<br>`` ends a line; inline elements (span, a,
  font, b …) join the text around them as it is, with no space added;
- each line is whitespace-collapsed and trimmed (full-width and no-break spaces too), empty lines
  are dropped, HTML entities left in the text are unescaped, control characters removed, NFC;
- list items start with "- "; a table row is one "| cell | cell |" line (a colspan pads empty
  cells, short rows are padded to the widest), a cell's blocks are joined by spaces, and a table
  nested in a cell follows its table's rows;
- scripts, styles, forms' widgets, media, nav/aside/footer, comments and hidden elements
  (``display:none``, ``visibility:hidden``, ``hidden``, ``aria-hidden``) are dropped, their tail kept.
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Final

from lxml.html import HtmlElement

#: Elements whose whole subtree is not article text: trafilatura's MANUALLY_CLEANED less <time>
#: (a date inside a sentence is prose) and <form> (see ``_dropped_forms``), plus <template>, <title>.
SKIPPED_TAGS: Final = frozenset(
    {
        "applet",
        "area",
        "aside",
        "audio",
        "blink",
        "button",
        "canvas",
        "datalist",
        "dialog",
        "embed",
        "fencedframe",
        "fieldset",
        "figure",
        "footer",
        "frame",
        "frameset",
        "head",
        "iframe",
        "input",
        "label",
        "link",
        "map",
        "marquee",
        "math",
        "menu",
        "menuitem",
        "nav",
        "noindex",
        "noscript",
        "object",
        "optgroup",
        "option",
        "output",
        "param",
        "picture",
        "progress",
        "rp",
        "rt",
        "rtc",
        "script",
        "select",
        "source",
        "style",
        "svg",
        "template",
        "textarea",
        "title",
        "track",
        "use",
        "video",
    }
)
#: Elements that start and end a line. Everything else is inline.
BLOCK_TAGS: Final = frozenset(
    {
        "address",
        "article",
        "blockquote",
        "body",
        "caption",
        "center",
        "details",
        "div",
        "figcaption",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hgroup",
        "html",
        "legend",
        "main",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
    }
)
LIST_TAGS: Final = frozenset({"ul", "ol", "dl", "dir"})
LIST_ITEM_TAGS: Final = frozenset({"li", "dd", "dt"})
LINE_BREAK_TAGS: Final = frozenset({"br", "hr"})
CELL_TAGS: Final = frozenset({"td", "th"})
ROW_GROUP_TAGS: Final = frozenset({"thead", "tbody", "tfoot"})
LIST_MARKER: Final = "- "
_MAX_SPAN: Final = 100  # trafilatura's cap on colspan
_HIDDEN_STYLE_RE: Final = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


def container_text(element: HtmlElement) -> str:
    """The container's text, one paragraph per line (empty string when it holds none)."""
    walker = _Walker(_dropped_forms(element), in_cell=False)
    if element.tag == "table":
        walker.table(element)
    else:
        walker.children(element)  # the container itself is never hidden: it holds the article
    text = "\n".join(walker.finish())
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def clean_line(raw: str) -> str:
    """A line as trafilatura emits it: entities unescaped, whitespace collapsed, control characters gone."""
    if "&" in raw:
        raw = html.unescape(raw)
    line = " ".join(raw.split())
    if not line.isprintable():
        line = " ".join("".join(c for c in line if c.isprintable() or c.isspace()).split())
    return line


def is_hidden(element: HtmlElement) -> bool:
    """Hidden by its own markup: ``hidden``, ``aria-hidden="true"``, inline display:none / visibility:hidden."""
    if not element.attrib:
        return False  # most elements have no attributes: one test instead of three lookups
    if element.get("hidden") is not None or element.get("aria-hidden") == "true":
        return True
    style = element.get("style")
    return style is not None and _HIDDEN_STYLE_RE.search(style) is not None


def _dropped_forms(container: HtmlElement) -> frozenset[HtmlElement]:
    """Forms that are widgets (a vote, a search box), as trafilatura sees them: those holding at most
    half the container's text. A form holding more is a page-wide ASP.NET wrapper: its text is read."""
    forms = list(container.iter("form"))
    if not forms:
        return frozenset()
    total = len(container.text_content())
    return frozenset(form for form in forms if 2 * len(form.text_content()) <= total)


def _span(cell: HtmlElement) -> int:
    value = cell.get("colspan", "1").strip()
    return min(int(value), _MAX_SPAN) if value.isdecimal() and int(value) > 0 else 1


class _Walker:
    """Collects lines: inline text accumulates in ``parts``, a block boundary turns them into a line.

    Inside a list item or a table cell a block boundary is only a space: an item is one line, a
    cell one cell (``<br>`` still breaks an item). A cell has no list markers, and tables nested in
    it are set aside in ``nested`` for the enclosing table to render after its own rows.
    """

    def __init__(self, dropped: frozenset[HtmlElement], in_cell: bool) -> None:
        self.dropped = dropped
        self.in_cell = in_cell
        self.lists = 0  # open lists (nesting indent of their items' markers)
        self.items = 0  # open list items
        self.marker = ""  # the open item's marker, given to its first line
        self.lines: list[str] = []
        self.parts: list[str] = []
        self.nested: list[HtmlElement] = []

    def add(self, text: str | None) -> None:
        if text:
            self.parts.append(text)

    def end_line(self) -> None:
        if not self.parts:
            return
        line = clean_line("".join(self.parts))
        self.parts.clear()
        if line:
            self.lines.append(self.marker + line)
            self.marker = ""

    def block_break(self) -> None:
        if self.in_cell or self.items:
            self.add(" ")
        else:
            self.end_line()

    def finish(self) -> list[str]:
        self.end_line()
        return self.lines

    def children(self, element: HtmlElement) -> None:
        self.add(element.text)
        for child in element:
            self.node(child)
            self.add(child.tail)

    def node(self, element: HtmlElement) -> None:
        """One child (its tail is the caller's): skip it, break the line, or render it."""
        tag = element.tag
        if not isinstance(tag, str) or tag in SKIPPED_TAGS or element in self.dropped or is_hidden(element):
            return  # comments, processing instructions, non-content and hidden elements
        if tag in LINE_BREAK_TAGS:  # a line break even in a list item, a space in a cell
            if self.in_cell:
                self.add(" ")
            else:
                self.end_line()
        elif tag == "table":
            if self.in_cell:
                self.add(" ")
                self.nested.append(element)
            else:
                self.table(element)
        elif self.in_cell and (tag in LIST_TAGS or tag in LIST_ITEM_TAGS):
            self.block(element)  # a list in a cell is flattened, without markers
        elif tag in LIST_TAGS:
            self.end_line()
            self.lists += 1
            self.children(element)
            self.lists -= 1
            self.end_line()
        elif tag in LIST_ITEM_TAGS:
            self.list_item(element)
        elif tag == "pre":
            for line in element.text_content().splitlines():
                self.block_break()
                self.add(line)
            self.block_break()
        elif tag in BLOCK_TAGS:
            self.block(element)
        else:
            self.children(element)  # inline: its text joins the current line

    def block(self, element: HtmlElement) -> None:
        self.block_break()
        self.children(element)
        self.block_break()

    def list_item(self, element: HtmlElement) -> None:
        self.end_line()
        self.marker = "  " * max(self.lists - 1, 0) + LIST_MARKER
        self.items += 1
        self.children(element)
        self.items -= 1
        self.end_line()
        self.marker = ""

    def table(self, table: HtmlElement) -> None:
        """One "| a | b |" line per row with text, then elements misplaced between rows, then the
        tables nested in its cells."""
        self.end_line()
        rows: list[list[str]] = []
        nested: list[HtmlElement] = []
        for caption in table.iterchildren("caption"):
            rows.append([_cell_text(caption, self.dropped, nested)])
        source_rows, width, strays = _rows(table)
        for row in source_rows:
            cells: list[str] = []
            for cell in row:
                cells.append(_cell_text(cell, self.dropped, nested))
                cells.extend([""] * (_span(cell) - 1))
            rows.append(cells)
        for cells in rows:
            if any(cells):
                cells += [""] * (width - len(cells))
                self.lines.append("| " + " | ".join(cells) + " |")
        for stray in strays:
            self.node(stray)
            self.end_line()
        for inner in nested:
            self.table(inner)


def _rows(table: HtmlElement) -> tuple[list[list[HtmlElement]], int, list[HtmlElement]]:
    """The table's rows (in thead/tbody/tfoot too) as lists of cells, the width of the widest row,
    and the elements that sit outside any cell (a parser keeps them where the markup put them).

    A stray cell outside any <tr> joins the row before it but does not count for the width.
    """
    rows: list[list[HtmlElement]] = [[]]
    width = 0
    strays: list[HtmlElement] = []
    for child in table:
        if child.tag in CELL_TAGS:
            rows[-1].append(child)
        elif child.tag == "tr" or child.tag in ROW_GROUP_TAGS:
            for tr in [child] if child.tag == "tr" else child.iterchildren("tr"):
                rows.append(_cells(tr, strays))
                width = max(width, sum(_span(cell) for cell in rows[-1]))
        elif child.tag != "caption":
            strays.append(child)
    return [cells for cells in rows if cells], min(width, _MAX_SPAN), strays


def _cells(row: HtmlElement, strays: list[HtmlElement]) -> list[HtmlElement]:
    if is_hidden(row):
        return []
    strays.extend(child for child in row if child.tag not in CELL_TAGS)
    return [cell for cell in row if cell.tag in CELL_TAGS and not is_hidden(cell)]


def _cell_text(cell: HtmlElement, dropped: frozenset[HtmlElement], nested: list[HtmlElement]) -> str:
    """A cell's text on one line, "|" escaped as in trafilatura's rows; its tables go to ``nested``."""
    walker = _Walker(dropped, in_cell=True)
    walker.children(cell)
    nested.extend(walker.nested)
    return " ".join(walker.finish()).replace("|", "\\|")
