"""The content of one alert, independent of the channel that carries it.

``Message`` is what a notifier renders: a new-project ``AlertMessage`` here, or a source-health
``HealthMessage`` (``crawler.alerts.health``). Both carry an ``evidence`` text, the part shortened
first when a channel has a size limit.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Protocol, Self, TypeVar

ELLIPSIS = "…"


class Message(Protocol):
    """What every notifier needs from an alert."""

    webhook_event: ClassVar[str]  # the webhook payload's "event"
    payload_key: ClassVar[str]  # the webhook payload's key for ``to_json()``

    @property
    def idempotency_key(self) -> str: ...
    @property
    def evidence(self) -> str: ...
    def with_evidence(self, evidence: str) -> Self: ...
    def headline(self) -> str: ...  # a few words for logs
    def subject(self) -> str: ...
    def fields(self) -> list[tuple[str, str]]: ...
    def text(self) -> str: ...
    def html(self) -> str: ...
    def markdown(self, line_break: str = "\n") -> str: ...
    def link(self) -> tuple[str, str] | None: ...  # (title, url) of the page the alert is about
    def to_json(self) -> dict[str, Any]: ...


M = TypeVar("M", bound=Message)


@dataclass(frozen=True, slots=True)
class AlertMessage:
    webhook_event: ClassVar[str] = "newsmon.alert"
    payload_key: ClassVar[str] = "alert"

    idempotency_key: str  # stable per (project, rule, channel): receivers drop repeats
    rule: str
    project: str
    company: str | None
    investment_yi: Decimal | None
    amount_text: str | None
    stage: str
    region: str | None
    evidence: str
    article_title: str | None
    article_url: str
    published: date | None

    def headline(self) -> str:
        return self.project

    def link(self) -> tuple[str, str] | None:
        return self.article_title or self.article_url, self.article_url

    def subject(self) -> str:
        amount = f"{format_yi(self.investment_yi)}亿元" if self.investment_yi is not None else "金额未知"
        return f"[newsmon] 新大项目: {self.project} ({amount})"

    def amount(self) -> str:
        """'86.8 亿元 (原文: 超百亿)': the figure in 亿元 and the article's own wording."""
        amount = f"{format_yi(self.investment_yi)} 亿元" if self.investment_yi is not None else "未知"
        if self.amount_text:
            amount += f" (原文: {self.amount_text})"
        return amount

    def fields(self) -> list[tuple[str, str]]:
        """(label, value) for every field a reader needs to act without opening the article."""
        return [
            ("项目", self.project),
            ("企业", self.company or "-"),
            ("总投资", self.amount()),
            ("阶段", self.stage),
            ("地区", self.region or "-"),
            ("依据", self.evidence),
            ("文章", self.article_title or "-"),
            ("日期", self.published.isoformat() if self.published else "-"),
            ("链接", self.article_url),
        ]

    def text(self) -> str:
        """A plain-text body."""
        return "\n".join(f"{label}: {value}" for label, value in self.fields())

    def html(self) -> str:
        """An HTML body; every value escaped."""
        rows = "".join(
            f'<tr><th align="left" valign="top">{html.escape(label)}</th><td>{html.escape(value)}</td></tr>'
            for label, value in self.fields()
            if label != "链接"
        )
        url = html.escape(self.article_url, quote=True)
        title = html.escape(self.article_title or self.article_url)
        return (
            f'<html><body><h2>新大项目: {html.escape(self.project)}</h2><table cellpadding="4">{rows}</table>'
            f'<p><a href="{url}">{title}</a></p></body></html>'
        )

    def markdown(self, line_break: str = "\n") -> str:
        """Markdown for chat robots (DingTalk wants a blank line between lines, WeCom a newline)."""
        lines = [f"### 新大项目: {md_text(self.project)}"]
        lines += [f"**{label}**: {md_text(value)}" for label, value in self.fields()[1:5]]
        lines.append(f"> {md_text(self.evidence)}")
        date_text = f" ({self.published.isoformat()})" if self.published else ""
        lines.append(f"[{md_text(self.article_title or self.article_url)}]({md_url(self.article_url)}){date_text}")
        return line_break.join(lines)

    def with_evidence(self, evidence: str) -> AlertMessage:
        return replace(self, evidence=evidence)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["investment_yi"] = float(self.investment_yi) if self.investment_yi is not None else None
        data["published"] = self.published.isoformat() if self.published else None
        return data


def format_yi(value: Decimal) -> str:
    """86.8000 -> '86.8', 100 -> '100'."""
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def truncate_utf8(text: str, max_bytes: int, ellipsis: str = ELLIPSIS) -> str:
    """``text`` cut to at most ``max_bytes`` UTF-8 bytes, never inside a character, marked with ``ellipsis``."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    room = max_bytes - len(ellipsis.encode("utf-8"))
    if room <= 0:
        return data[:max_bytes].decode("utf-8", "ignore")
    return data[:room].decode("utf-8", "ignore") + ellipsis


def fit_evidence(message: M, render: Callable[[M], str], max_bytes: int) -> str:
    """Render the message within ``max_bytes``, shortening the evidence first and the whole text if need be."""
    full = render(message)
    if len(full.encode("utf-8")) <= max_bytes:
        return full
    without = len(render(message.with_evidence("")).encode("utf-8"))
    room = max_bytes - without
    shortened = render(message.with_evidence(truncate_utf8(message.evidence, room) if room > 0 else ELLIPSIS))
    return truncate_utf8(shortened, max_bytes)


def md_text(value: str) -> str:
    """One line of markdown: no line breaks, no brackets that would open a link."""
    return " ".join(value.split()).replace("[", "【").replace("]", "】")


def md_url(url: str) -> str:
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def sample_message() -> AlertMessage:
    """A realistic alert for `newsmon alerts test`: it says it is a test in the project name."""
    return AlertMessage(
        idempotency_key=datetime.now().strftime("test-%Y%m%d-%H%M%S-%f"),
        rule="test",
        project="[测试 TEST] 65万吨苯酚丙酮一体化产业链项目",
        company="江苏三木集团",
        investment_yi=Decimal("86.8"),
        amount_text="86.8亿元",
        stage="signed",
        region="辽宁省 抚顺市",
        evidence="此次落地的65万吨苯酚丙酮一体化产业链项目总投资86.8亿元，总占地1607亩。",
        article_title="抚顺市抓招商上项目 (newsmon 测试消息)",
        article_url="https://example.org/newsmon-test.html",
        published=date.today(),
    )
