"""`newsmon sources check` and `newsmon sources health`: try a column page before trusting a source.

    newsmon sources check NAME                   the source's first list URL, fetched
    newsmon sources check --url URL [--json]     any list page, fetched
    newsmon sources check --html FILE --url URL  a saved page, parsed as though served at URL (no network)
    newsmon sources health [--json]              sources failing or empty run after run

A check prints the detected CMS, the article links and next pages found, and the title, date and
first lines of the first article (fetched, unless --html).
"""

from __future__ import annotations

import argparse
import sys
import urllib.request
from pathlib import Path
from typing import Any

from crawler.errors import NewsmonError

MAX_BYTES = 10 * 1024 * 1024
TIMEOUT_S = 20.0
FIRST_LINES = 5


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    sources = subparsers.add_parser("sources", help="check a source's list page; show source health")
    sub = sources.add_subparsers(dest="sources_command", required=True)
    check = sub.add_parser("check", parents=[common], help="parse one list page and its first article")
    check.add_argument("name", nargs="?", help="a source from sources.yaml (its first list URL)")
    check.add_argument("--url", help="a list page URL (with --html: the URL the saved page was served at)")
    check.add_argument("--html", type=Path, metavar="FILE", help="a saved list page; nothing is fetched")
    check.add_argument("--cms", help="parser to use (default: the source's, else auto)")
    check.add_argument("--json", action="store_true", help="print one JSON object")
    check.set_defaults(handler=cmd_check)
    health = sub.add_parser("health", parents=[common], help="sources whose recent runs failed or found nothing")
    health.add_argument("--json", action="store_true")
    health.set_defaults(handler=cmd_health)


def fetch(url: str, user_agent: str) -> tuple[bytes, str | None, str]:
    """One GET with a browser User-Agent: (body, Content-Type, final URL)."""
    request = urllib.request.Request(url, headers={"User-Agent": user_agent, "Accept-Language": "zh-CN,zh;q=0.9"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            body = response.read(MAX_BYTES + 1)
            if len(body) > MAX_BYTES:
                raise NewsmonError(f"{url}: larger than {MAX_BYTES} bytes")
            return body, response.headers.get("Content-Type"), response.geturl()
    except OSError as exc:
        raise NewsmonError(f"cannot fetch {url}: {exc}") from None


def check_page(
    raw: bytes,
    content_type: str | None,
    url: str,
    cms: str = "auto",
    link_selector: str | None = None,
    next_selector: str | None = None,
) -> dict[str, Any]:
    from crawler.extract import decode_html
    from crawler.listing import parse_list_page

    decoded = decode_html(raw, content_type)
    listing = parse_list_page(decoded.text, url, cms, link_selector, next_selector)
    return {
        "url": url,
        "cms": listing.cms,
        "encoding": decoded.encoding,
        "article_links": list(listing.article_links),
        "next_pages": list(listing.next_pages),
        "total_pages": listing.total_pages,
    }


def first_article(url: str, user_agent: str) -> dict[str, Any]:
    from crawler.extract import decode_html, extract_article

    try:
        raw, content_type, final = fetch(url, user_agent)
    except NewsmonError as exc:
        return {"url": url, "error": str(exc)}
    article = extract_article(decode_html(raw, content_type).text, final)
    lines = [line for line in article.text.splitlines() if line.strip()][:FIRST_LINES]
    return {
        "url": final,
        "title": article.title,
        "published": article.published.isoformat() if article.published else None,
        "first_lines": lines,
    }


def cmd_check(args: argparse.Namespace) -> int:
    from crawler.cli import load_cli_config, print_json
    from crawler.config import CrawlSettings

    user_agent = CrawlSettings().user_agent
    cms, link_selector, next_selector = args.cms or "auto", None, None
    if args.name:
        config = load_cli_config(args)
        source = config.source(args.name)
        user_agent = config.app.crawl.user_agent
        url = args.url or source.list_urls[0]
        cms = args.cms or source.cms
        link_selector, next_selector = source.link_selector, source.next_selector
    elif args.url:
        url = args.url
    else:
        raise NewsmonError("sources check needs a source NAME or --url URL")
    if not url.startswith(("http://", "https://")):
        raise NewsmonError(f"not an http(s) URL: {url}")
    if args.html:
        try:
            raw, content_type = args.html.read_bytes(), None
        except OSError as exc:
            raise NewsmonError(f"cannot read {args.html}: {exc.strerror or exc}") from None
    else:
        raw, content_type, url = fetch(url, user_agent)
    result = check_page(raw, content_type, url, cms, link_selector, next_selector)
    links = result["article_links"]
    result["first_article"] = first_article(links[0], user_agent) if links and not args.html else None
    if args.json:
        print_json(result)
    else:
        render(result)
    return 0 if links else 1


def render(result: dict[str, Any]) -> None:
    out = sys.stdout
    out.write(f"{result['url']}\n  cms: {result['cms']}  encoding: {result['encoding']}\n")
    out.write(f"  article links: {len(result['article_links'])}\n")
    for link in result["article_links"]:
        out.write(f"    {link}\n")
    for link in result["next_pages"]:
        out.write(f"  next page: {link}\n")
    if result["total_pages"]:
        out.write(f"  pages in all: {result['total_pages']}\n")
    article = result.get("first_article")
    if article:
        out.write(f"\nfirst article {article['url']}\n")
        if "error" in article:
            out.write(f"  error: {article['error']}\n")
        else:
            out.write(f"  title: {article['title']}\n  date: {article['published']}\n")
            for line in article["first_lines"]:
                out.write(f"  | {line[:120]}\n")
    if not result["article_links"]:
        out.write("  no article links found: set link_selector (CSS) or cms for this source\n")


def cmd_health(args: argparse.Namespace) -> int:
    from crawler.cli import load_cli_config, print_json
    from crawler.health import source_health
    from crawler.store import open_database

    config = load_cli_config(args)
    db = open_database(config.app.database_url)
    try:
        with db.session() as session:
            columns = {source.name: source.list_urls for source in config.sources}
            report = source_health(session, config.app.health.failing_runs, list_urls=columns)
    finally:
        db.close()
    if args.json:
        print_json([h.to_json() for h in report])
    else:
        for h in report:
            state = "ok" if h.healthy else "UNHEALTHY"
            last_ok = h.last_ok.isoformat(timespec="minutes") if h.last_ok else "never"
            print(f"{h.source}: {state} (last ok {last_ok})" + (f" — {h.problem}" if h.problem else ""))
    return 0 if all(h.healthy for h in report) else 1
