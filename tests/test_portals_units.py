"""The pure decisions behind the spider: paging, validators, streaks, backoff, redirects, health."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from crawler.fetch import (
    CrawlOptions,
    ListOutcome,
    ListState,
    Validators,
    conditional_headers,
    next_state,
    plan_list_page,
    redirect_allowed,
    retry_delay,
)
from crawler.health import assess
from crawler.listing import ListPage
from tests.health_doubles import Column, Run

PAGE = ListPage(("http://a.cn/1.html", "http://a.cn/2.html"), ("http://a.cn/index_1.html",), "trs")


def test_paging_stops_at_a_page_of_known_links() -> None:
    plan = plan_list_page(PAGE, 1, 5, lambda u: u.endswith("1.html"), set())
    assert plan.article_urls == ("http://a.cn/2.html",) and plan.next_url == "http://a.cn/index_1.html"
    known = plan_list_page(PAGE, 1, 5, lambda u: True, set())
    assert known.article_urls == () and known.next_url is None
    scheduled = plan_list_page(PAGE, 2, 5, lambda u: False, {"http://a.cn/1.html", "http://a.cn/2.html"})
    assert scheduled.next_url is None  # requested earlier in this run: nothing new here


def test_backfill_and_refetch() -> None:
    backfill = plan_list_page(PAGE, 2, 5, lambda u: True, set(), CrawlOptions(backfill_pages=3))
    assert backfill.article_urls == () and backfill.next_url == "http://a.cn/index_1.html"
    assert plan_list_page(PAGE, 3, 5, lambda u: True, set(), CrawlOptions(backfill_pages=3)).next_url is None
    refetch = plan_list_page(PAGE, 1, 5, lambda u: True, set(), CrawlOptions(refetch=True))
    assert refetch.article_urls == PAGE.article_links
    assert plan_list_page(PAGE, 5, 5, lambda u: False, set()).next_url is None  # max_pages


def test_conditional_headers_and_streaks() -> None:
    v = Validators('"abc"', "Tue, 04 Apr 2023 08:00:00 GMT")
    assert conditional_headers(v, CrawlOptions()) == {
        "If-None-Match": '"abc"',
        "If-Modified-Since": "Tue, 04 Apr 2023 08:00:00 GMT",
    }
    assert conditional_headers(v, CrawlOptions(refetch=True)) == {}
    assert conditional_headers(None, CrawlOptions()) == {}
    state = next_state(ListState(), ListOutcome("ok", 5, '"e"', None), keep_validators=True)
    assert state.etag == '"e"' and state.links_last == 5
    assert next_state(ListState(), ListOutcome("ok", 5, '"e"', None), keep_validators=False).etag is None
    empty = next_state(next_state(state, ListOutcome("empty", error="x"), True), ListOutcome("empty", error="x"), True)
    assert empty.empty_streak == 2 and empty.etag is None
    assert next_state(empty, ListOutcome("not_modified"), True).empty_streak == 0


def test_backoff_and_redirects() -> None:
    assert [retry_delay(n) for n in (1, 2, 3)] == [1.0, 2.0, 4.0]
    assert retry_delay(20) == 30.0
    assert redirect_allowed("https://zwgk.baotou.gov.cn/x.html", ["http://www.baotou.gov.cn/zsyz/"])
    assert not redirect_allowed("http://parked-domain.com/", ["http://www.baotou.gov.cn/zsyz/"])


def test_health_flags_sources_failing_run_after_run() -> None:
    t = datetime(2024, 1, 1)
    runs = [Run("good", "ok", t + timedelta(hours=i)) for i in range(3)]
    runs += [
        Run("flaky", "failed", t),
        Run("flaky", "ok", t + timedelta(hours=1)),
        Run("flaky", "failed", t + timedelta(hours=2)),
    ]
    runs += [Run("broken", "ok", t)] + [
        Run("broken", "failed", t + timedelta(hours=i), "list page X yielded no article links (layout changed?)")
        for i in range(1, 4)
    ]
    runs += [Run("dead", "failed", t + timedelta(hours=i), "list page 1 X: connection refused") for i in range(4)]
    columns = [Column("multi", "http://m.cn/col2/", empty_streak=3)]
    report = {h.source: h for h in assess([*runs, Run("multi", "ok", t)], columns)}
    assert report["good"].healthy and report["flaky"].healthy
    assert not report["broken"].healthy and "layout changed" in (report["broken"].problem or "")
    assert report["broken"].last_ok == t and report["broken"].failed_runs_in_row == 3
    assert (
        not report["dead"].healthy
        and "only errors" in (report["dead"].problem or "")
        and report["dead"].last_ok is None
    )
    assert not report["multi"].healthy and report["multi"].columns == ("http://m.cn/col2/",)


@pytest.mark.parametrize(
    ("failed_fetches", "not_stored", "lost", "keep"),
    [(0, 0, 0, True), (1, 0, 0, False), (0, 1, 0, False), (0, 0, 3, False)],
)
def test_a_run_keeps_validators_only_when_every_article_was_stored(
    failed_fetches: int, not_stored: int, lost: int, keep: bool
) -> None:
    """A fetch failure, a database error or a failed group commit: the next run must not get a 304."""
    from crawler.crawljob import RunTally, every_article_stored

    tally = RunTally("fushun", 1, not_stored=not_stored)
    assert every_article_stored({"articles_failed": failed_fetches}, tally, lost) is keep
