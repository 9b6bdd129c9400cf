"""content/lessons/: one ポイント学習 theme per checklist item (itemNN.yaml)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.content import schema
from bot.content.problems import ContentProblem
from bot.content.reader import read_valid, validator
from bot.content.spelling import Spelling

LESSONS_DIR = "lessons"
_FILE_NAME = re.compile(r"^item(\d{2})\.yaml$")


@dataclass(frozen=True)
class QuizQuestion:
    question: str
    choices: tuple[str, ...]
    answer: int
    explanation: str
    key_words: tuple[str, ...] = ()  # the correct answer's words, found in the lesson


@dataclass(frozen=True)
class Lesson:
    item: int
    title: str
    scenario: str
    points: tuple[str, ...]
    quiz: tuple[QuizQuestion, ...]


def read_lessons(content_dir: Path, item_count: int, problems: list[ContentProblem], *,
                 spelling: Spelling | None = None) -> dict[int, Lesson] | None:
    """Every lesson by checklist item; None (with the problems appended) when anything is wrong.
    With `spelling`, every text of every lesson is checked against the spelling list."""
    directory = content_dir / LESSONS_DIR
    if not directory.is_dir():
        problems.append(ContentProblem(LESSONS_DIR, "", "directory is missing"))
        return None
    before = len(problems)
    lessons: dict[int, Lesson] = {}
    seen_items: dict[int, str] = {}
    seen_questions: dict[str, str] = {}
    lesson_schema = validator(schema.LESSON)
    for path in sorted(directory.iterdir()):
        name = f"{LESSONS_DIR}/{path.name}"
        match = _FILE_NAME.match(path.name)
        if not match:
            problems.append(ContentProblem(name, "", "lesson files are named itemNN.yaml (NN = checklist item)"))
            continue
        data = read_valid(path, name, lesson_schema, problems)
        if data is None:
            continue
        if spelling is not None:
            problems.extend(spelling.problems(name, data))
        if data["item"] != int(match.group(1)):
            problems.append(ContentProblem(name, "item", f"is {data['item']} but the file is for item {match.group(1)}"))
        if not 1 <= data["item"] <= item_count:
            problems.append(ContentProblem(name, "item", f"no checklist item {data['item']}"))
        if data["item"] in seen_items:
            problems.append(ContentProblem(name, "item", f"item {data['item']} already has {seen_items[data['item']]}"))
        seen_items[data["item"]] = name
        for i, question in enumerate(data["quiz"]):
            where = f"quiz[{i}]"
            if question["answer"] >= len(question["choices"]):
                problems.append(ContentProblem(name, f"{where}.answer",
                                         f"{question['answer']} is not the index of one of the choices"))
            if len(set(question["choices"])) != len(question["choices"]):
                problems.append(ContentProblem(name, f"{where}.choices", "two choices are the same"))
            problems.extend(_key_word_problems(name, where, data, question))
            key = re.sub(r"\s+", "", question["question"])
            if key in seen_questions:
                problems.append(ContentProblem(name, f"{where}.question", f"repeats a question of {seen_questions[key]}"))
            seen_questions[key] = f"{name} {where}"
        lessons[data["item"]] = _lesson(data)
    missing = sorted(set(range(1, item_count + 1)) - set(seen_items))
    if missing:
        problems.append(ContentProblem(LESSONS_DIR, "", f"no lesson for checklist item(s) {missing}"))
    return None if len(problems) > before else dict(sorted(lessons.items()))


def lesson_text(scenario: str, points: tuple[str, ...] | list[str]) -> str:
    """What a learner reads before the quiz."""
    return "\n".join([scenario, *points])


def _key_word_problems(name: str, where: str, data: dict[str, Any], question: dict[str, Any]) -> list[ContentProblem]:
    """Each key word of the correct answer is in the lesson, and is the answer's (in the correct choice or
    its explanation): a question the lesson does not answer is reported."""
    problems = []
    read = lesson_text(data["scenario"], data["points"])
    choices, answer = question["choices"], question["answer"]
    correct = (choices[answer] if answer < len(choices) else "") + "\n" + question["explanation"]
    for j, word in enumerate(question["key_words"]):
        field = f"{where}.key_words[{j}]"
        if word not in read:
            problems.append(ContentProblem(name, field, f"{word!r} is not in the lesson (scenario and points): "
                                                        "the lesson does not teach this answer"))
        if word not in correct:
            problems.append(ContentProblem(name, field, f"{word!r} is neither in the correct choice nor in its "
                                                        "explanation"))
    return problems


def _lesson(data: dict[str, Any]) -> Lesson:
    return Lesson(
        item=data["item"],
        title=data["title"],
        scenario=data["scenario"].strip(),
        points=tuple(data["points"]),
        quiz=tuple(QuizQuestion(q["question"], tuple(q["choices"]), q["answer"], q["explanation"].strip(),
                                key_words=tuple(q["key_words"]))
                   for q in data["quiz"]),
    )
