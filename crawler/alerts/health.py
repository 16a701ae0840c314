"""Source-health alerts: one when a source turns unhealthy, one when it recovers, through the outbox.

After each crawl ``track_health`` assesses the crawled sources (``crawler.health``) and compares
each with its health as last alerted (table ``health_states``). On a change it records the new
state and writes one outbox row per channel (``alerts.kind = "source_health"``, the message frozen
as JSON in ``payload``) in the same transaction, so the dispatcher delivers it with the same lease,
retries and idempotency key as a project alert. A source that stays unhealthy is not alerted again;
once it has recovered, breaking again is a new alert. With health alerts off (or no channel) the
states are left alone, so turning them on later alerts whatever is unhealthy then.
"""

from __future__ import annotations

import hashlib
import html
import json
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, ClassVar

from loguru import logger
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from crawler.alerts.message import md_text, md_url
from crawler.config import Config, HealthSettings, Source
from crawler.health import RECOVERED, UNHEALTHY, Finding, SourceHealth, health_change, note_links_seen, source_health
from crawler.store.db import Database
from crawler.store.schema import AlertRow, HealthStateRow

KIND = "source_health"  # alerts.kind of these rows
RULE_PREFIX = "source-"  # alerts.rule: source-unhealthy | source-recovered


def _time(moment: datetime | None) -> str:
    return moment.isoformat(sep=" ", timespec="seconds") if moment else "never"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def _bullets(text: str) -> str:
    """One line as it is; several as an indented list under the label."""
    lines = text.splitlines()
    return text if len(lines) < 2 else "".join(f"\n  - {line}" for line in lines)


def _parse(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True, slots=True)
class HealthMessage:
    """A source turned unhealthy (what is wrong, where, what to do) or recovered (what was wrong)."""

    webhook_event: ClassVar[str] = "newsmon.source_health"
    payload_key: ClassVar[str] = "source_health"

    idempotency_key: str
    change: str  # unhealthy | recovered
    source: str
    problem: str  # what is wrong (unhealthy) or was wrong (recovered), a line per finding
    changed_at: datetime
    columns: tuple[str, ...] = ()  # the column list URLs concerned
    findings: tuple[Finding, ...] = ()
    failed_runs_in_row: int = 0
    last_ok: datetime | None = None
    unhealthy_since: datetime | None = None  # recovered: since when it had been unhealthy

    @property
    def evidence(self) -> str:
        return self.problem

    def with_evidence(self, evidence: str) -> HealthMessage:
        return replace(self, problem=evidence)

    def action(self) -> str:
        return f"newsmon sources check {shlex.quote(self.source)}"

    def headline(self) -> str:
        return f"source {self.source} {self.change}"

    def link(self) -> tuple[str, str] | None:
        return (self.columns[0], self.columns[0]) if self.columns else None

    def subject(self) -> str:
        return f"[newsmon] source {self.change}: {self.source}"

    def fields(self) -> list[tuple[str, str]]:
        if self.change == RECOVERED:
            return [
                ("source", self.source),
                ("status", f"healthy again ({_time(self.changed_at)})"),
                ("unhealthy since", _time(self.unhealthy_since)),
                ("problem was", _bullets(self.problem)),
            ]
        return [
            ("source", self.source),
            ("problem", _bullets(self.problem)),
            ("columns", "\n".join(self.columns) or "-"),
            ("last ok run", _time(self.last_ok)),
            ("to do", f"{self.action()}  (what the list page yields now; then fix sources.yaml)"),
        ]

    def text(self) -> str:
        return "\n".join(f"{label}:{'' if value.startswith(chr(10)) else ' '}{value}" for label, value in self.fields())

    def html(self) -> str:
        rows = "".join(
            f'<tr><th align="left" valign="top">{html.escape(label)}</th>'
            f"<td>{html.escape(value.strip()).replace(chr(10), '<br>')}</td></tr>"
            for label, value in self.fields()
        )
        return f'<html><body><h2>{html.escape(self.subject())}</h2><table cellpadding="4">{rows}</table></body></html>'

    def markdown(self, line_break: str = "\n") -> str:
        lines = [f"### source {self.change}: {md_text(self.source)}"]
        for label, value in self.fields()[1:]:
            if label.startswith("problem"):
                value = "; ".join(self.problem.splitlines())
            elif label == "columns":
                value = ", ".join(md_url(url) for url in self.columns) or "-"
            lines.append(f"**{label}**: {md_text(value)}")
        return line_break.join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": KIND,
            "idempotency_key": self.idempotency_key,
            "change": self.change,
            "source": self.source,
            "problem": self.problem,
            "changed_at": _iso(self.changed_at),
            "columns": list(self.columns),
            "findings": [f.to_json() for f in self.findings],
            "failed_runs_in_row": self.failed_runs_in_row,
            "last_ok": _iso(self.last_ok),
            "unhealthy_since": _iso(self.unhealthy_since),
            "action": self.action(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HealthMessage:
        return cls(
            idempotency_key=str(data["idempotency_key"]),
            change=str(data["change"]),
            source=str(data["source"]),
            problem=str(data["problem"]),
            changed_at=_parse(data["changed_at"]) or datetime.now(),
            columns=tuple(data.get("columns") or ()),
            findings=tuple(Finding.from_json(f) for f in data.get("findings") or ()),
            failed_runs_in_row=int(data.get("failed_runs_in_row") or 0),
            last_ok=_parse(data.get("last_ok")),
            unhealthy_since=_parse(data.get("unhealthy_since")),
        )


def problem_text(health: SourceHealth) -> str:
    """Every finding, a line each."""
    return "\n".join(f.describe() for f in health.findings) or health.problem or "unhealthy"


def health_message(change: str, health: SourceHealth, now: datetime, state: HealthStateRow | None) -> HealthMessage:
    """The message for a change (its idempotency key is set per channel)."""
    if change == UNHEALTHY:
        return HealthMessage(
            "",
            change,
            health.source,
            problem_text(health),
            now,
            health.columns,
            health.findings,
            health.failed_runs_in_row,
            health.last_ok,
        )
    was = (state.problem if state else None) or "unhealthy"
    return HealthMessage("", change, health.source, was, now, unhealthy_since=state.since if state else None)


def health_key(source: str, change: str, at: datetime, channel: str) -> str:
    return hashlib.sha256(f"newsmon:health:{source}:{change}:{at.isoformat()}:{channel}".encode()).hexdigest()[:32]


def queue_change(session: Session, message: HealthMessage, channels: Sequence[str]) -> int:
    """One pending outbox row per channel for this change."""
    for channel in channels:
        key = health_key(message.source, message.change, message.changed_at, channel)
        session.add(
            AlertRow(
                kind=KIND,
                source_name=message.source,
                payload=json.dumps(replace(message, idempotency_key=key).to_json(), ensure_ascii=False),
                rule=RULE_PREFIX + message.change,
                channel=channel,
                idempotency_key=key,
                status="pending",
                attempts=0,
                created_at=message.changed_at,
                next_attempt_at=message.changed_at,
            )
        )
    return len(channels)


def apply_health(
    session: Session,
    state: HealthStateRow | None,
    health: SourceHealth,
    settings: HealthSettings,
    channels: Sequence[str],
    now: datetime,
) -> int:
    """Record a change of this source's health and queue its alerts; the number of rows queued."""
    change = health_change(state.healthy if state else None, health)
    if state is not None:
        state.checked_at = now
        if not health.healthy and change is None:
            state.problem = problem_text(health)  # still unhealthy, not alerted again: what recovery reports
    if change is None:
        return 0
    message = health_message(change, health, now, state)
    if state is None:
        state = HealthStateRow(source_name=health.source, checked_at=now)
        session.add(state)
    state.healthy, state.since = health.healthy, now
    state.problem = None if health.healthy else problem_text(health)
    if change == RECOVERED and not settings.recovery_alerts:
        logger.info("source {} recovered (recovery alerts are off)", health.source)
        return 0
    logger.info("source {} {}: alert queued for {}", health.source, change, ", ".join(channels))
    return queue_change(session, message, channels)


def track_health(
    db: Database,
    sources: Sequence[Source],
    settings: HealthSettings,
    sinks: tuple[str, ...],
    now: datetime | None = None,
) -> list[SourceHealth]:
    """After a crawl of ``sources``: keep the links each column found, assess them, alert the changes.

    Returns their health. Database errors are logged, not raised: the next crawl assesses again
    (the decision depends only on the stored state, so nothing is lost by skipping once).
    """
    now = now or datetime.now()
    channels = settings.alert_channels(sinks)
    names = [source.name for source in sources]
    columns = {source.name: source.list_urls for source in sources}
    try:
        with db.transaction() as session:
            note_links_seen(session, names)
            report = source_health(session, settings.failing_runs, names=names, list_urls=columns)
            if not channels:
                return report
            query = select(HealthStateRow).where(HealthStateRow.source_name.in_(list(names))).with_for_update()
            states = {row.source_name: row for row in session.scalars(query)}
            for health in report:
                apply_health(session, states.get(health.source), health, settings, channels, now)
        return report
    except (IntegrityError, OperationalError) as exc:  # another process recorded it first, or the database is busy
        logger.warning("source health not recorded this time (assessed again after the next crawl): {}", exc.orig)
    with db.session() as session:
        return source_health(session, settings.failing_runs, names=names, list_urls=columns)


def report_unhealthy(config: Config, db: Database, sources: Sequence[Source]) -> None:
    """The crawled sources' health (crawler.health): a log line for each unhealthy one, and an alert
    queued when one turns unhealthy or recovers (crawler.alerts.health; sent by the dispatcher)."""
    sinks = tuple(n.name for n in config.app.notifiers)
    try:
        report = track_health(db, sources, config.app.health, sinks)
    except Exception:  # the crawl's results are stored already; health is assessed again next time
        logger.exception("source health not assessed after this crawl")
        return
    for health in report:
        if not health.healthy:
            logger.error("source {} is unhealthy: {}", health.source, health.problem)
