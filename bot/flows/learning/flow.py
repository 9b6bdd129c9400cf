"""ポイント学習: 25 five-minute themes, each with a 確認テスト; all right earns a 修了証.

States: `lesson_choosing` (a list of themes is shown) and `lesson_quiz`
(waiting for the answer to one question). Data (conv.data["lesson"]):
{"item": checklist item, "queue": question indexes of this round, "pos": index
into queue, "wrong": indexes missed this round, "round": 1, 2, ...}. A round
that ends with no miss passes the theme; otherwise the user may retry just the
missed questions, as in IPA's ポイント学習 (修了証 only when every answer is right).
"""
from __future__ import annotations

from typing import Any

from bot.core.conversation import Conversation
from bot.core.events import action_value
from bot.core.flow import Flow, IntentRoute, on, when
from bot.core.replies import Choice
from bot.flows.learning.issue import (
    CERTIFICATE_IMAGE,
    draw_certificate,
    issue_certificates,
)
from bot.flows.menu import MENU, send_menu, stale_choice
from bot.flows.selfcheck.scoring import NOT_DONE, PARTIAL, UNKNOWN

NAME = "lesson"
CHOOSING = "lesson_choosing"
QUIZ = "lesson_quiz"
PAGE_SIZE = 8
RECOMMENDED = 5


def _draft(conv: Conversation) -> dict[str, Any] | None:
    draft = conv.data.get(NAME)
    return draft if draft and draft.get("item") in conv.content.lessons else None


async def _progress(conv: Conversation) -> dict[int, dict[str, Any]]:
    return await conv.services.store.lesson_progress(conv.who)


async def recommended_items(conv: Conversation, progress: dict[int, dict[str, Any]]) -> list[int]:
    """Themes not passed yet: first those of the latest self-check's weak and わからない items."""
    results = await conv.services.store.results(conv.who, limit=1)
    weak: list[int] = []
    if results:
        answers = results[-1]["answers"]
        for kind in (NOT_DONE, UNKNOWN, PARTIAL):
            weak += [no for no, a in enumerate(answers, start=1) if a == kind]
    ordered = weak + [no for no in sorted(conv.content.lessons) if no not in weak]
    return [no for no in ordered if not progress.get(no, {}).get("passed_at")]


def _theme_choice(conv: Conversation, no: int, progress: dict[int, dict[str, Any]]) -> Choice:
    topic = conv.content.checklist.item(no).topic
    key = "lesson.theme_passed" if progress.get(no, {}).get("passed_at") else "lesson.theme"
    return Choice(conv.text(key, no=no, topic=topic), action_value("open_lesson", no))


# --- choosing -----------------------------------------------------------------

async def propose(conv: Conversation) -> None:
    progress = await _progress(conv)
    picks = (await recommended_items(conv, progress))[:RECOMMENDED]
    has_result = bool(await conv.services.store.results(conv.who, limit=1))
    passed = sum(1 for p in progress.values() if p.get("passed_at"))
    if not picks:
        conv.out.text(conv.text("lesson.all_passed", total=len(conv.content.lessons)))
    options = [_theme_choice(conv, no, progress) for no in picks]
    options += [Choice(conv.text("lesson.list_button"), action_value("lesson_page", 1)),
                Choice(conv.text("result.menu"), action_value("show_menu"))]
    key = "lesson.choose_from_result" if has_result and picks else "lesson.choose"
    conv.out.choices(conv.text(key, passed=passed, total=len(conv.content.lessons)), options)


async def show_page(conv: Conversation, page: str = "1") -> None:
    items = sorted(conv.content.lessons)
    pages = (len(items) + PAGE_SIZE - 1) // PAGE_SIZE
    number = min(max(int(page) if page.isdigit() else 1, 1), pages)
    progress = await _progress(conv)
    shown = items[(number - 1) * PAGE_SIZE:number * PAGE_SIZE]
    options = [_theme_choice(conv, no, progress) for no in shown]
    if number > 1:
        options.append(Choice(conv.text("lesson.previous"), action_value("lesson_page", number - 1)))
    if number < pages:
        options.append(Choice(conv.text("lesson.next"), action_value("lesson_page", number + 1)))
    options.append(Choice(conv.text("result.menu"), action_value("show_menu")))
    conv.out.choices(conv.text("lesson.page", page=number, pages=pages), options)


async def reprompt_choosing(conv: Conversation) -> None:
    await propose(conv)


# --- one lesson -----------------------------------------------------------------

def is_unknown_lesson(conv: Conversation, no: str = "") -> bool:
    return not (no.isdigit() and int(no) in conv.content.lessons)


async def unknown_lesson(conv: Conversation, *_: str) -> None:
    conv.out.text(conv.text("lesson.unknown_item", total=len(conv.content.lessons)))
    await propose(conv)


async def open_lesson(conv: Conversation, no: str) -> None:
    lesson = conv.content.lessons[int(no)]
    item = conv.content.checklist.item(lesson.item)
    points = conv.content.texts.bullets(lesson.points)
    conv.out.text(conv.text("lesson.reading", no=lesson.item, topic=item.topic, title=lesson.title,
                            count=len(lesson.quiz), scenario=lesson.scenario, points=points))
    conv.data[NAME] = {"item": lesson.item, "queue": list(range(len(lesson.quiz))), "pos": 0, "wrong": [],
                       "round": 1}
    await ask_current(conv)


async def ask_current(conv: Conversation) -> None:
    draft = _draft(conv)
    if draft is None:
        await propose(conv)
        return
    lesson = conv.content.lessons[draft["item"]]
    index = draft["queue"][draft["pos"]]
    question = lesson.quiz[index]
    conv.out.choices(
        conv.text("lesson.question", n=draft["pos"] + 1, total=len(draft["queue"]), question=question.question),
        [Choice(choice, action_value("lesson_answer", lesson.item, index, i)) for i, choice in enumerate(question.choices)],
    )


def _parse(conv: Conversation, item: str, index: str, choice: str) -> tuple[int, int, int] | None:
    try:
        parsed = int(item), int(index), int(choice)
    except ValueError:
        return None
    lesson = conv.content.lessons.get(parsed[0])
    if lesson is None or not 0 <= parsed[1] < len(lesson.quiz) or not 0 <= parsed[2] < len(lesson.quiz[parsed[1]].choices):
        return None
    return parsed


def is_not_current(conv: Conversation, item: str = "", index: str = "", choice: str = "") -> bool:
    """A click on another question (a late or double click): nothing to record."""
    draft = _draft(conv)
    parsed = _parse(conv, item, index, choice)
    return (draft is None or parsed is None or parsed[0] != draft["item"]
            or draft["pos"] >= len(draft["queue"]) or parsed[1] != draft["queue"][draft["pos"]])


async def ignore_or_stale(conv: Conversation, item: str = "", index: str = "", choice: str = "") -> None:
    draft = _draft(conv)
    parsed = _parse(conv, item, index, choice)
    answered = (draft is not None and parsed is not None and parsed[0] == draft["item"]
                and parsed[1] in draft["queue"][:draft["pos"]] + draft["wrong"])
    if not answered:  # an old question is simply not answered twice; anything else is explained
        await stale_choice(conv)


def ends_round(conv: Conversation, *_: str) -> bool:
    draft = _draft(conv)
    return draft["pos"] + 1 >= len(draft["queue"])


def passes_round(conv: Conversation, item: str, index: str, choice: str) -> bool:
    """The last question of a round, answered right, after no miss in the round."""
    draft = _draft(conv)
    _, i, c = _parse(conv, item, index, choice)
    right = c == conv.content.lessons[draft["item"]].quiz[i].answer
    return ends_round(conv) and not draft["wrong"] and right


def _record_answer(conv: Conversation, index: int, choice: int) -> bool:
    draft = _draft(conv)
    question = conv.content.lessons[draft["item"]].quiz[index]
    right = choice == question.answer
    if right:
        conv.out.text(conv.text("lesson.correct", explanation=question.explanation))
    else:
        draft["wrong"].append(index)
        conv.out.text(conv.text("lesson.wrong", answer=question.choices[question.answer],
                                explanation=question.explanation))
    draft["pos"] += 1
    return right


async def answer_and_continue(conv: Conversation, item: str, index: str, choice: str) -> None:
    _, i, c = _parse(conv, item, index, choice)
    _record_answer(conv, i, c)
    await ask_current(conv)


async def answer_and_finish(conv: Conversation, item: str, index: str, choice: str) -> None:
    _, i, c = _parse(conv, item, index, choice)
    _record_answer(conv, i, c)
    draft = _draft(conv)
    lesson = conv.content.lessons[draft["item"]]
    progress = await _progress(conv)
    record = dict(progress.get(lesson.item, {}))
    record["attempts"] = record.get("attempts", 0) + (1 if draft["round"] == 1 else 0)
    record["total"] = len(lesson.quiz)
    correct = len(draft["queue"]) - len(draft["wrong"])
    if draft["round"] == 1:
        record["best"] = max(record.get("best", 0), correct)
    if draft["wrong"]:
        record["last_attempt_at"] = conv.services.clock().isoformat(timespec="seconds")
        conv.ops.append(conv.services.store.set_lesson_progress(conv.who, lesson.item, record))
        conv.out.choices(conv.text("lesson.failed", correct=correct, total=len(draft["queue"])), [
            Choice(conv.text("lesson.retry_button"), action_value("lesson_retry")),
            Choice(conv.text("lesson.restart_button"), action_value("open_lesson", lesson.item)),
            Choice(conv.text("lesson.choose_button"), action_value("start_lessons")),
        ])
        return
    del conv.data[NAME]
    first_pass = not record.get("passed_at")
    now = conv.services.clock()
    record["passed_at"] = record.get("passed_at") or now.isoformat(timespec="seconds")
    progress[lesson.item] = record
    conv.out.text(conv.text("lesson.passed", title=lesson.title))
    await issue_certificates(conv, lesson, record, progress, course_complete=first_pass and all(
        progress.get(no, {}).get("passed_at") for no in conv.content.lessons))
    conv.ops.append(conv.services.store.set_lesson_progress(conv.who, lesson.item, record))
    remaining = await recommended_items(conv, progress)
    options = [_theme_choice(conv, remaining[0], progress)] if remaining else []
    options += [Choice(conv.text("lesson.choose_button"), action_value("start_lessons")),
                Choice(conv.text("result.menu"), action_value("show_menu"))]
    conv.out.choices(conv.text("lesson.after_pass"), options)


def has_missed(conv: Conversation, *_: str) -> bool:
    draft = _draft(conv)
    return draft is not None and bool(draft["wrong"]) and draft["pos"] >= len(draft["queue"])


async def retry_missed(conv: Conversation) -> None:
    draft = _draft(conv)
    draft.update(queue=list(draft["wrong"]), pos=0, wrong=[], round=draft["round"] + 1)
    conv.out.text(conv.text("lesson.retry_intro", count=len(draft["queue"])))
    await ask_current(conv)


async def reprompt_quiz(conv: Conversation) -> None:
    draft = _draft(conv)
    if draft is not None and draft["pos"] >= len(draft["queue"]):  # between a missed round and a retry
        conv.out.choices(conv.text("lesson.after_miss"), [
            Choice(conv.text("lesson.retry_button"), action_value("lesson_retry")),
            Choice(conv.text("lesson.choose_button"), action_value("start_lessons")),
        ])
        return
    await ask_current(conv)


async def pause(conv: Conversation) -> None:
    conv.data.pop(NAME, None)
    conv.out.text(conv.text("lesson.paused"))
    await send_menu(conv)


# --- menu and overview ------------------------------------------------------------

def menu_entries(conv: Conversation) -> list[Choice]:
    return [Choice(conv.text("lesson.menu"), action_value("start_lessons"))]


async def home(conv: Conversation) -> None:
    progress = await _progress(conv)
    passed = sum(1 for p in progress.values() if p.get("passed_at"))
    lines = [conv.text("lesson.progress", passed=passed, total=len(conv.content.lessons))]
    for no in sorted(progress):
        p = progress[no]
        status = conv.text("lesson.progress_passed") if p.get("passed_at") else conv.text(
            "lesson.progress_trying", best=p.get("best", 0), total=p.get("total", 0))
        lines.append(conv.text("lesson.progress_row", no=no, topic=conv.content.checklist.item(no).topic,
                               status=status, attempts=p.get("attempts", 0)))
    remaining = await recommended_items(conv, progress)
    if remaining:
        lines.append(conv.text("lesson.progress_next", no=remaining[0],
                               title=conv.content.lessons[remaining[0]].title))
    conv.out.text("\n".join(lines))


FLOW = Flow(
    name=NAME,
    states=(CHOOSING, QUIZ),
    transitions=(
        {"trigger": "start_lessons", "source": "*", "dest": CHOOSING, "after": on(propose)},
        {"trigger": "lesson_page", "source": "*", "dest": CHOOSING, "after": on(show_page)},
        {"trigger": "open_lesson", "source": "*", "dest": None, "conditions": when(is_unknown_lesson),
         "after": on(unknown_lesson)},
        {"trigger": "open_lesson", "source": "*", "dest": QUIZ, "after": on(open_lesson)},
        {"trigger": "lesson_answer", "source": QUIZ, "dest": None, "conditions": when(is_not_current),
         "after": on(ignore_or_stale)},
        {"trigger": "lesson_answer", "source": QUIZ, "dest": MENU, "conditions": when(passes_round),
         "after": on(answer_and_finish)},
        {"trigger": "lesson_answer", "source": QUIZ, "dest": None, "conditions": when(ends_round),
         "after": on(answer_and_finish)},
        {"trigger": "lesson_answer", "source": QUIZ, "dest": None, "after": on(answer_and_continue)},
        {"trigger": "lesson_retry", "source": QUIZ, "dest": None, "conditions": when(has_missed),
         "after": on(retry_missed)},
        {"trigger": "cancel", "source": QUIZ, "dest": MENU, "after": on(pause)},
    ),
    reprompts={CHOOSING: reprompt_choosing, QUIZ: reprompt_quiz},
    hints={CHOOSING: "lesson.choose_hint", QUIZ: "lesson.hint"},
    menu_entries=menu_entries,
    home=home,
    topics={"lesson": "start_lessons"},
    numbered={"lesson": "open_lesson"},
    intents=(IntentRoute(intents=lambda content: ("lesson",), trigger="start_lessons", confidence=0.5),),
    images={CERTIFICATE_IMAGE: draw_certificate},
)
