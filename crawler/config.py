"""Configuration: three YAML files in one folder, parsed once into frozen, typed objects.

``newsmon.yaml``  database, data folder, crawl settings, alert rules and sinks, source health
``sources.yaml``  the portals to crawl
``rules.yaml``    the extraction vocabulary (parsed by ``crawler.rules``)

Every setting has a default, so a missing ``newsmon.yaml`` or ``sources.yaml`` is fine; an unknown
key or a bad value raises ConfigError naming the file and the key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

from crawler.alerts.notifiers import ConsoleNotifier, JsonlNotifier, Notifier, build_notifier
from crawler.errors import ConfigError
from crawler.rules import RuleSet, load_ruleset_file
from crawler.scheduler.settings import ScheduleSettings, parse_schedule_settings, read_source_schedule
from crawler.yamlcheck import Fields, read_yaml_file

DATABASE_ENV = "NEWSMON_DATABASE_URL"
CONFIG_ENV = "NEWSMON_CONFIG"


@dataclass(frozen=True)
class AlertRule:
    """When a newly found project raises an alert. An approximate amount counts at its stated bound."""

    name: str = "large-project"
    min_investment_yi: Decimal = Decimal(10)
    regions: tuple[str, ...] = ()  # any of these substrings in the source's region; empty = all
    industries: tuple[str, ...] = ()  # any of these in the project's industry or name; empty = all
    keywords: tuple[str, ...] = ()  # any of these in the project name or evidence; empty = all


@dataclass(frozen=True)
class CrawlSettings:
    user_agent: str = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
    )
    obey_robots: bool = True
    concurrent_per_host: int = 2
    # Requests in flight across all sources of a crawl: with slow portals (a page in 1-3 s) Scrapy's
    # default of 16 would keep most of a many-source crawl waiting, not the hosts.
    concurrent_total: int = 64
    download_timeout_s: float = 30.0
    max_page_bytes: int = 10 * 1024 * 1024
    retries: int = 2
    autothrottle: bool = True


@dataclass(frozen=True)
class ProjectMatching:
    """Thresholds for deciding that two mentions name the same project, and two articles the same story."""

    name_similarity: float = 85.0  # rapidfuzz score (0-100) on normalised names, after the adjustments below
    company_bonus: float = 5.0  # added when both name the same company
    company_penalty: float = 25.0  # taken off when both name a company and the companies differ
    region_penalty: float = 10.0  # taken off when the sources' regions differ
    amount_bonus: float = 5.0  # added when both amounts agree within amount_tolerance
    amount_penalty: float = 10.0  # taken off when the amounts differ more than twofold
    amount_tolerance: float = 0.1  # relative difference under which two amounts agree
    near_duplicate: float = 0.8  # 0-1: shingle (Jaccard) similarity from which an article is a reprint
    near_duplicate_min_chars: int = 100  # shorter texts are matched only exactly
    near_duplicate_candidates: int = 10  # stored articles compared per new article


@dataclass(frozen=True)
class HealthSettings:
    """When a source counts as unhealthy (``crawler.health``) and where its health alerts go."""

    failing_runs: int = 3  # failed runs in a row, or runs a column finds no link or only errors
    alerts: bool = True  # one alert when a source turns unhealthy (``crawler.alerts.health``)
    recovery_alerts: bool = True  # and one when it is healthy again
    channels: tuple[str, ...] = ()  # sink names; empty: every sink

    def alert_channels(self, sinks: tuple[str, ...]) -> tuple[str, ...]:
        """The channels health alerts go to, out of the configured sinks (in their order)."""
        if not self.alerts:
            return ()
        return tuple(s for s in sinks if s in self.channels) if self.channels else sinks


@dataclass(frozen=True)
class AppConfig:
    database_url: str = "sqlite:///data/newsmon.db"
    data_dir: Path = Path("data")
    crawl: CrawlSettings = field(default_factory=CrawlSettings)
    alert_rules: tuple[AlertRule, ...] = (AlertRule(),)
    notifiers: tuple[Notifier, ...] = ()
    matching: ProjectMatching = field(default_factory=ProjectMatching)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    health: HealthSettings = field(default_factory=HealthSettings)


@dataclass(frozen=True)
class Source:
    name: str
    list_urls: tuple[str, ...]
    region: str | None = None
    link_selector: str | None = None  # CSS selector of article links on a list page; None = auto-detect
    next_selector: str | None = None  # CSS selector of the next-page link; None = auto-detect
    max_pages: int = 5  # list pages followed per crawl
    cms: str = "auto"
    schedule: str | None = None
    enabled: bool = True
    proxy: str | None = None  # an HTTP proxy URL for this source's requests


@dataclass(frozen=True)
class Config:
    folder: Path
    app: AppConfig
    sources: tuple[Source, ...]
    rules: RuleSet

    def with_database(self, url: str | None) -> Config:
        return self if not url else replace(self, app=replace(self.app, database_url=url))

    def source(self, name: str) -> Source:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none"
        raise ConfigError(str(self.folder / "sources.yaml"), "sources", f"no source named {name!r} (known: {known})")


def default_config_folder() -> Path:
    """``$NEWSMON_CONFIG``, else ./config, else the config folder beside the installed package."""
    if env := os.environ.get(CONFIG_ENV):
        return Path(env)
    local = Path("config")
    if (local / "rules.yaml").exists():
        return local
    return Path(__file__).resolve().parent.parent / "config"


def load_config(folder: Path | None = None, database_url: str | None = None) -> Config:
    folder = folder or default_config_folder()
    if not folder.is_dir():
        raise ConfigError(str(folder), "", "config folder not found (pass --config DIR)")
    rules_path = folder / "rules.yaml"
    if not rules_path.exists():
        raise ConfigError(str(rules_path), "", "missing: the extraction rules are required")
    app = parse_app_config(folder / "newsmon.yaml")
    env_url = os.environ.get(DATABASE_ENV)
    config = Config(
        folder=folder,
        app=app,
        sources=parse_sources(folder / "sources.yaml"),
        rules=load_ruleset_file(rules_path),
    )
    return config.with_database(env_url).with_database(database_url)


def parse_app_config(path: Path) -> AppConfig:
    top = Fields(read_yaml_file(path), str(path))
    defaults = AppConfig()
    database = top.sub("database")
    url = database.text("url", defaults.database_url)
    database.finish()
    data_dir = Path(top.text("data_dir", str(defaults.data_dir)))
    crawl = _parse_crawl(top.sub("crawl"))
    matching = _parse_matching(top.sub("matching"))
    alerts = top.sub("alerts")
    rules = _parse_alert_rules(alerts)
    notifiers = _parse_notifiers(alerts, data_dir)
    alerts.finish()
    schedule = parse_schedule_settings(top.sub("schedule"))
    health = _parse_health(top.sub("health"), tuple(n.name for n in notifiers))
    top.finish()
    return AppConfig(url, data_dir, crawl, rules, notifiers, matching, schedule=schedule, health=health)


def _parse_health(fields: Fields, sinks: tuple[str, ...]) -> HealthSettings:
    d = HealthSettings()
    health = HealthSettings(
        failing_runs=fields.whole("failing_runs", d.failing_runs, 1),
        alerts=fields.flag("alerts", d.alerts),
        recovery_alerts=fields.flag("recovery_alerts", d.recovery_alerts),
        channels=fields.str_list("channels"),
    )
    fields.finish()
    unknown = [name for name in health.channels if name not in sinks]
    if unknown:
        raise fields.error("channels", f"no sink named {unknown[0]!r} in alerts.sinks (sinks: {', '.join(sinks)})")
    return health


def _parse_matching(fields: Fields) -> ProjectMatching:
    d = ProjectMatching()
    matching = ProjectMatching(
        name_similarity=fields.number("name_similarity", d.name_similarity, 0.0),
        company_bonus=fields.number("company_bonus", d.company_bonus, 0.0),
        company_penalty=fields.number("company_penalty", d.company_penalty, 0.0),
        region_penalty=fields.number("region_penalty", d.region_penalty, 0.0),
        amount_bonus=fields.number("amount_bonus", d.amount_bonus, 0.0),
        amount_penalty=fields.number("amount_penalty", d.amount_penalty, 0.0),
        amount_tolerance=fields.number("amount_tolerance", d.amount_tolerance, 0.0),
        near_duplicate=fields.number("near_duplicate", d.near_duplicate, 0.0),
        near_duplicate_min_chars=fields.whole("near_duplicate_min_chars", d.near_duplicate_min_chars, 0),
        near_duplicate_candidates=fields.whole("near_duplicate_candidates", d.near_duplicate_candidates, 1),
    )
    fields.finish()
    # 0 would merge every mention into any project sharing a trigram (``match_score`` gives 0 to a
    # name with other numbers, and candidate reads skip those: crawler.projects.candidates).
    if not 0 < matching.name_similarity <= 100:
        raise fields.error("name_similarity", f"expected a score above 0, up to 100, got {matching.name_similarity:g}")
    if matching.near_duplicate > 1:
        raise fields.error("near_duplicate", f"expected a similarity 0-1, got {matching.near_duplicate:g}")
    return matching


def _parse_crawl(fields: Fields) -> CrawlSettings:
    d = CrawlSettings()
    crawl = CrawlSettings(
        user_agent=fields.text("user_agent", d.user_agent),
        obey_robots=fields.flag("obey_robots", d.obey_robots),
        concurrent_per_host=fields.whole("concurrent_per_host", d.concurrent_per_host, 1),
        concurrent_total=fields.whole("concurrent_total", d.concurrent_total, 1),
        download_timeout_s=fields.number("download_timeout_s", d.download_timeout_s, 1.0),
        max_page_bytes=fields.whole("max_page_bytes", d.max_page_bytes, 1024),
        retries=fields.whole("retries", d.retries, 0),
        autothrottle=fields.flag("autothrottle", d.autothrottle),
    )
    fields.finish()
    return crawl


def _parse_alert_rules(alerts: Fields) -> tuple[AlertRule, ...]:
    threshold = alerts.decimal("threshold_yi", AlertRule.min_investment_yi)
    raw_rules = alerts.items("rules")
    if not raw_rules:
        return (AlertRule(min_investment_yi=threshold),)
    rules = []
    for i, raw in enumerate(raw_rules):
        f = Fields(raw, alerts.file, alerts.key(f"rules[{i}]"))
        rules.append(
            AlertRule(
                name=f.text("name", f"rule-{i + 1}"),
                min_investment_yi=f.decimal("min_investment_yi", threshold),
                regions=f.str_list("regions"),
                industries=f.str_list("industries"),
                keywords=f.str_list("keywords"),
            )
        )
        f.finish()
    names = [r.name for r in rules]
    if len(set(names)) != len(names):
        raise alerts.error("rules", f"rule names must be unique, got {names}")
    return tuple(rules)


def _parse_notifiers(alerts: Fields, data_dir: Path) -> tuple[Notifier, ...]:
    if not alerts.has("sinks"):
        # The embedded default: the terminal and a JSON-lines file, enough for the seeds replay.
        return (ConsoleNotifier("console"), JsonlNotifier("jsonl", data_dir / "alerts.jsonl"))
    notifiers = [
        build_notifier(Fields(raw, alerts.file, alerts.key(f"sinks[{i}]")))
        for i, raw in enumerate(alerts.items("sinks"))
    ]
    names = [n.name for n in notifiers]
    if len(set(names)) != len(names):
        raise alerts.error("sinks", f"sink names must be unique (set name: on repeats), got {names}")
    return tuple(notifiers)


def parse_sources(path: Path) -> tuple[Source, ...]:
    top = Fields(read_yaml_file(path), str(path))
    sources = []
    for i, raw in enumerate(top.items("sources")):
        f = Fields(raw, str(path), f"sources[{i}]")
        name = f.text("name", "")
        if not name:
            raise f.error("name", "missing: every source needs a name")
        urls = f.str_list("list_urls")
        if not urls or not all(u.startswith(("http://", "https://")) for u in urls):
            raise f.error("list_urls", f"expected one or more http(s) URLs, got {list(urls)}")
        sources.append(
            Source(
                name=name,
                list_urls=urls,
                region=f.optional_str("region"),
                link_selector=f.optional_str("link_selector"),
                next_selector=f.optional_str("next_selector"),
                max_pages=f.whole("max_pages", Source.max_pages, 1),
                cms=f.text("cms", Source.cms),
                schedule=read_source_schedule(f),
                enabled=f.flag("enabled", Source.enabled),
                proxy=f.optional_str("proxy"),
            )
        )
        f.finish()
    top.finish()
    names = [s.name for s in sources]
    if len(set(names)) != len(names):
        raise top.error("sources", f"source names must be unique, got {names}")
    return tuple(sources)
