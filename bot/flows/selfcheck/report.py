"""What the self-check result and the history look like, as neutral replies.

The result fits a phone: it leads with the score (card and chart), how to read the total and the
three items to start with, one line each; the countermeasures, the items answered わからない and
SECURITY ACTION are one tap away (「詳しい結果と対策を見る」, `result_details`)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from bot.core.conversation import Conversation
from bot.core.events import action_value
from bot.core.images import render_score_chart
from bot.core.replies import Card, Choice, Field, Image
from bot.flows.selfcheck.scoring import (
    NOT_DONE,
    PARTIAL,
    UNKNOWN,
    DiagnosisScore,
    weakest_items,
)


def _item_refs(conv: Conversation, numbers: Iterable[int]) -> str:
    """「No.3 パスワード、No.5 共有設定」"""
    checklist = conv.content.checklist
    return conv.content.texts.join(conv.text("list.item_ref", no=no, topic=checklist.item(no).topic)
                                   for no in numbers)

def result_record(score: DiagnosisScore, *, at: datetime) -> dict[str, Any]:
    """The result as kept in the user's history (no expiry)."""
    return {
        "at": at.isoformat(timespec="seconds"),
        "total": score.total,
        "categories": {c.id: c.score for c in score.categories},
        "answers": list(score.answers),
    }


def result_key(at: datetime | str) -> str:
    """A result's time as a choice argument (no colons: they separate a choice's arguments)."""
    moment = datetime.fromisoformat(at) if isinstance(at, str) else at
    return f"{moment:%Y%m%d%H%M%S}"


def _date(conv: Conversation, at: datetime | str) -> str:
    return conv.content.texts.date(datetime.fromisoformat(at) if isinstance(at, str) else at)


def _signed(diff: int) -> str:
    return f"+{diff}" if diff > 0 else str(diff)


def _change(conv: Conversation, total: int, previous: dict[str, Any] | None) -> str:
    if previous is None:
        return conv.text("result.first_time")
    diff = total - previous["total"]
    return conv.text("result.change", diff=_signed(diff), date=_date(conv, previous["at"]))


def _points(conv: Conversation, score: int, maximum: int) -> str:
    return conv.text("result.points", score=score, max=maximum)


def _ratio(score: int, maximum: int) -> float:
    return max(0.0, score / maximum) if maximum else 0.0


def _score_card(conv: Conversation, score: DiagnosisScore, previous: dict[str, Any] | None, at: datetime) -> Card:
    fields = [Field(conv.text("result.total_label"), _points(conv, score.total, score.max_total),
                    _ratio(score.total, score.max_total))]
    fields += [Field(c.name, _points(conv, c.score, c.max_score), _ratio(c.score, c.max_score))
               for c in score.categories]
    return Card(
        title=conv.text("result.title"),
        fields=tuple(fields),
        body=_change(conv, score.total, previous),
        footer=conv.text("result.footer", date=_date(conv, at)),
    )


def _band_text(conv: Conversation, score: DiagnosisScore) -> list[str]:
    band = conv.content.checklist.band(score.total)
    return [conv.text("result.band", label=band.label, reading=band.reading)] if band else []


TOP_ACTIONS = 3  # the items the result leads with


def _nothing_weak_text(conv: Conversation, score: DiagnosisScore) -> str:
    unknown = score.items_answered(UNKNOWN)
    return (conv.text("result.none_weak_some_unknown", count=len(unknown)) if unknown
            else conv.text("result.all_done"))


def _lead_text(conv: Conversation, score: DiagnosisScore) -> str:
    """How to read the total, then the first step of each of the items to start with (or why there are none)."""
    checklist = conv.content.checklist
    blocks = _band_text(conv, score)
    top = weakest_items(score, limit=TOP_ACTIONS)
    if not top:
        blocks.append(_nothing_weak_text(conv, score))
        return "\n\n".join(blocks)
    rows = [conv.text("result.top_item", n=n, no=no, topic=checklist.item(no).topic, action=checklist.item(no).action)
            for n, no in enumerate(top, start=1)]
    blocks.append(conv.text("result.top_heading", count=len(top)) + "\n" + "\n".join(rows))
    return "\n\n".join(blocks)


def lead_text(conv: Conversation, score: DiagnosisScore) -> str:
    """How to read the total and the first steps (the company's own check shows it too)."""
    return _lead_text(conv, score)


def _weak_items_text(conv: Conversation, score: DiagnosisScore) -> str:
    """The items to work on first with their countermeasures (or why there are none), then the others."""
    checklist = conv.content.checklist
    blocks: list[str] = []
    weakest = weakest_items(score)
    if not weakest:
        return _nothing_weak_text(conv, score)
    blocks.append(conv.text("result.weak_heading"))
    for no in weakest:
        item = checklist.item(no)
        blocks.append(conv.text(
            "result.weak_item", no=no, topic=item.topic,
            answer=checklist.answers[score.answers[no - 1]].label, countermeasure=item.countermeasure))
    rest = [no for no in weakest_items(score, limit=len(score.answers)) if no not in weakest]
    if rest:
        blocks.append(conv.text("result.weak_more", count=len(rest),
                                items=_item_refs(conv, rest)))
    return "\n\n".join(blocks)


def _unknown_items_text(conv: Conversation, score: DiagnosisScore) -> str | None:
    unknown = score.items_answered(UNKNOWN)
    if not unknown:
        return None
    checklist = conv.content.checklist
    blocks = [conv.text("result.unknown_heading", count=len(unknown))]
    for no in unknown:
        item = checklist.item(no)
        blocks.append(conv.text("result.unknown_item", no=no, topic=item.topic, how_to_check=item.how_to_check))
    return "\n\n".join(blocks)


def _security_action_text(conv: Conversation, score: DiagnosisScore) -> str:
    action = conv.content.security_action
    missing = [no for no in action.one_star_items if score.answers[no - 1] in (PARTIAL, NOT_DONE, UNKNOWN)]
    if missing:
        topics = _item_refs(conv, missing)
        one_star = conv.text("result.one_star_todo", items=topics)
    else:
        one_star = conv.text("result.one_star_ready")
    steps = conv.content.texts.bullets(action.two_star_steps)
    return conv.text(
        "result.security_action",
        one_star_name=action.one_star_name, one_star_requirement=action.one_star_requirement,
        one_star_status=one_star,
        two_star_name=action.two_star_name, two_star_requirement=action.two_star_requirement,
        two_star_steps=steps, url=action.url,
    )


def score_card(conv: Conversation, score: DiagnosisScore, *, previous: dict[str, Any] | None,
               at: datetime) -> Card:
    return _score_card(conv, score, previous, at)


def score_chart(conv: Conversation, score: DiagnosisScore, *, at: datetime) -> Image:
    bars = [(conv.text("result.total_label"), score.total, score.max_total)]
    bars += [(c.name, c.score, c.max_score) for c in score.categories]
    return Image(
        name=f"self-check-{at:%Y%m%d-%H%M}.png",
        alt_text=conv.text("result.chart_alt", total=score.total),
        renderer=SCORE_CHART,
        params={"title": conv.text("result.title"), "bars": bars,
                "caption": conv.text("result.footer", date=_date(conv, at)),
                "unit_template": conv.content.texts["chart.points"]},
    )


SCORE_CHART = "score_chart"


async def draw_score_chart(params: dict[str, Any], services: Any) -> bytes:
    bars = [(label, score, maximum) for label, score, maximum in params["bars"]]
    return await services.offload.run(render_score_chart, **{**params, "bars": bars})


def _next_options(conv: Conversation, can_share: bool) -> list[Choice]:
    options = [Choice(conv.text("diagnosis.share"), action_value("share_result"))] if can_share else []
    return options + [
        Choice(conv.text("diagnosis.menu_history"), action_value("show_history")),
        Choice(conv.text("result.again"), action_value("restart_diagnosis")),
        Choice(conv.text("result.menu"), action_value("show_menu")),
    ]


def render_result(conv: Conversation, score: DiagnosisScore, *, previous: dict[str, Any] | None,
                  at: datetime, can_share: bool) -> None:
    """The lead: the score, the chart, how to read it and the three items to start with; the rest one tap away."""
    conv.out.add(_score_card(conv, score, previous, at))
    conv.out.add(score_chart(conv, score, at=at))
    conv.out.text(_lead_text(conv, score))
    details = Choice(conv.text("result.details"), action_value("result_details", result_key(at)))
    conv.out.choices(conv.text("result.next_prompt", total=score.total), [details, *_next_options(conv, can_share)])


def render_details(conv: Conversation, score: DiagnosisScore, *, can_share: bool,
                   options: list[Choice] | None = None) -> None:
    """One tap away: every item to work on with its countermeasure, the items answered わからない with how
    to find out, and what SECURITY ACTION still needs."""
    conv.out.text(_weak_items_text(conv, score))
    unknown = _unknown_items_text(conv, score)
    if unknown:
        conv.out.text(unknown)
    conv.out.text(_security_action_text(conv, score))
    conv.out.choices(conv.text("result.next_prompt", total=score.total),
                     options if options is not None else _next_options(conv, can_share))


def render_history(conv: Conversation, results: list[dict[str, Any]], *, shown: int = 10) -> None:
    """Newest first; `results` is oldest first and may hold one more than is shown (for its change)."""
    if not results:
        conv.out.text(conv.text("history.empty"))
    else:
        rows = []
        for i in range(len(results) - 1, max(len(results) - 1 - shown, -1), -1):
            result = results[i]
            moment = datetime.fromisoformat(result["at"])
            change = (conv.text("history.change", diff=_signed(result["total"] - results[i - 1]["total"]))
                      if i > 0 else "")
            rows.append(conv.text("history.row", date=_date(conv, moment), time=moment.strftime("%H:%M"),
                                  total=result["total"], change=change))
        conv.out.text(conv.text("history.title") + "\n" + "\n".join(rows))
    conv.out.choices(conv.text("history.prompt"), [
        Choice(conv.text("diagnosis.menu_start"), action_value("start_diagnosis")),
        Choice(conv.text("result.menu"), action_value("show_menu")),
    ])
