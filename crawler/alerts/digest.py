"""The daily digest: every project first seen on a day (large or not), grouped by region, by e-mail.

Turned on per e-mail sink with ``digest: {hour: 8}``. The scheduler calls ``send_daily_digest`` at
that hour (``digest_schedule`` says which channels and hours); each (channel, day) is recorded once
sent, so a second call for the same day sends nothing.
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from loguru import logger
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crawler.alerts.mail import EmailNotifier, Letter
from crawler.alerts.message import format_yi
from crawler.store.db import Database
from crawler.store.schema import ArticleRow, DigestRow, ProjectRow

if TYPE_CHECKING:
    from crawler.config import Config

NO_REGION = "未注明地区"


@dataclass(frozen=True)
class DigestItem:
    project: str
    company: str | None
    investment_yi: Decimal | None
    amount_text: str | None
    stage: str
    article_title: str | None
    article_url: str

    def amount(self) -> str:
        if self.investment_yi is None:
            return "金额未知"
        words = f" (原文: {self.amount_text})" if self.amount_text else ""
        return f"{format_yi(self.investment_yi)} 亿元{words}"


@dataclass(frozen=True)
class DigestMessage:
    day: date
    regions: list[tuple[str, list[DigestItem]]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(items) for _, items in self.regions)

    def subject(self) -> str:
        return f"[newsmon] {self.day.isoformat()} 新项目日报: {self.count} 个"

    def text(self) -> str:
        if not self.count:
            return f"{self.day.isoformat()} 没有发现新项目。"
        lines = [f"{self.day.isoformat()} 新发现 {self.count} 个项目, 按地区:"]
        for region, items in self.regions:
            lines.append(f"\n== {region} ({len(items)}) ==")
            for item in items:
                company = f" | {item.company}" if item.company else ""
                lines.append(f"- {item.project}{company} | {item.amount()} | {item.stage}")
                lines.append(f"  {item.article_title or '-'} {item.article_url}")
        return "\n".join(lines)

    def html(self) -> str:
        parts = [f"<html><body><h2>{html.escape(self.subject())}</h2>"]
        if not self.count:
            parts.append(f"<p>{html.escape(self.text())}</p>")
        for region, items in self.regions:
            parts.append(f"<h3>{html.escape(region)} ({len(items)})</h3><ul>")
            for item in items:
                link = html.escape(item.article_url, quote=True)
                parts.append(
                    f"<li><b>{html.escape(item.project)}</b> {html.escape(item.company or '')} "
                    f"{html.escape(item.amount())} {html.escape(item.stage)} "
                    f'<a href="{link}">{html.escape(item.article_title or item.article_url)}</a></li>'
                )
            parts.append("</ul>")
        parts.append("</body></html>")
        return "".join(parts)

    def letter(self, channel: str) -> Letter:
        key = hashlib.sha256(f"newsmon:digest:{channel}:{self.day.isoformat()}".encode()).hexdigest()[:32]
        return Letter(self.subject(), self.text(), self.html(), key)


def build_digest(session: Session, day: date) -> DigestMessage:
    """Every project first seen on ``day``, grouped by region (largest investment first in each)."""
    start = datetime.combine(day, datetime.min.time())
    rows = session.execute(
        select(ProjectRow, ArticleRow)
        .join(ArticleRow, ProjectRow.first_article_id == ArticleRow.id)
        .where(ProjectRow.first_seen >= start, ProjectRow.first_seen < start + timedelta(days=1))
        .order_by(ProjectRow.id)
    ).all()
    groups: dict[str, list[DigestItem]] = {}
    for project, article in rows:
        item = DigestItem(
            project.name,
            project.company,
            project.investment_yi,
            project.amount_text,
            project.stage,
            article.title,
            article.url,
        )
        groups.setdefault(project.region or NO_REGION, []).append(item)
    for items in groups.values():
        items.sort(key=lambda i: -(i.investment_yi if i.investment_yi is not None else Decimal(-1)))
    regions = sorted(groups.items(), key=lambda kv: (kv[0] == NO_REGION, kv[0]))
    return DigestMessage(day, regions)


def digest_schedule(config: Config) -> list[tuple[str, int]]:
    """(channel, hour) for every e-mail sink that asked for the daily digest."""
    return [
        (n.name, n.digest_hour)
        for n in config.app.notifiers
        if isinstance(n, EmailNotifier) and n.digest_hour is not None
    ]


@dataclass(frozen=True)
class DigestOutcome:
    channel: str
    status: str  # sent | already-sent | failed
    projects: int = 0
    error: str | None = None


def send_daily_digest(
    db: Database, config: Config, day: date, channels: tuple[str, ...] | None = None
) -> list[DigestOutcome]:
    """Send ``day``'s digest to each digest channel (or the named ones) not yet sent it. Never raises on
    a channel failure: the outcome says so and the next call tries again."""
    wanted = channels if channels is not None else tuple(name for name, _ in digest_schedule(config))
    by_name = {n.name: n for n in config.app.notifiers if isinstance(n, EmailNotifier)}
    with db.session() as session:
        digest = build_digest(session, day)
    return [_send_to(db, by_name, name, digest) for name in wanted]


def _send_to(db: Database, by_name: dict[str, EmailNotifier], name: str, digest: DigestMessage) -> DigestOutcome:
    notifier = by_name.get(name)
    if notifier is None:
        return DigestOutcome(name, "failed", error=f"no e-mail channel named {name!r}")
    with db.session() as session:
        done = session.scalar(select(DigestRow.id).where(DigestRow.channel == name, DigestRow.day == digest.day))
    if done is not None:
        return DigestOutcome(name, "already-sent", digest.count)
    try:
        notifier.send_letter(digest.letter(name))
    except Exception as exc:
        logger.warning("digest for {} to {} failed: {}", digest.day, name, exc)
        return DigestOutcome(name, "failed", digest.count, f"{type(exc).__name__}: {exc}")
    try:
        with db.transaction() as session:
            session.add(DigestRow(channel=name, day=digest.day, projects=digest.count, sent_at=datetime.now()))
    except IntegrityError:
        logger.warning("digest for {} to {} was also sent by another process", digest.day, name)
    logger.info("digest for {} sent to {}: {} projects", digest.day, name, digest.count)
    return DigestOutcome(name, "sent", digest.count)
