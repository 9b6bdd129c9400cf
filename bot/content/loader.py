"""Loading and validating everything under content/.

Content is data: questions, countermeasures, reply texts and the phrases the
bot understands are YAML files, checked against a schema and against each
other when the bot starts and by `bot content check`. Every problem names the
file and the field.
"""
from __future__ import annotations

import string
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable

from bot.content import schema
from bot.content.incidents import (
    CONTACTS_FILE,
    POLICY_FILE,
    TRIAGE_FILE,
    IncidentContent,
    playbook_file,
    policy_kinds,
    read_incidents,
    read_policy,
)
from bot.content.incidents import (
    DIRECTORY as INCIDENTS_DIR,
)
from bot.content.intents import EXAMPLES_FILE, IntentSpec, read_intents
from bot.content.intents import FILE as INTENTS_FILE
from bot.content.lessons import LESSONS_DIR, Lesson, read_lessons
from bot.content.problems import ContentError, ContentProblem
from bot.content.reader import read_valid
from bot.content.spelling import FILE as SPELLING_FILE
from bot.content.spelling import Spelling, read_spelling
from bot.content.texts import REQUIRED_TEXTS


@dataclass(frozen=True)
class AnswerOption:
    id: str
    label: str
    score: int


@dataclass(frozen=True)
class Category:
    id: str
    name: str
    first: int
    last: int

    def contains(self, item_no: int) -> bool:
        return self.first <= item_no <= self.last

    @property
    def item_count(self) -> int:
        return self.last - self.first + 1


@dataclass(frozen=True)
class ChecklistItem:
    no: int
    topic: str
    action: str  # the first concrete step, in one line
    question: str
    footnotes: tuple[tuple[str, str], ...]
    countermeasure: str
    how_to_check: str


@dataclass(frozen=True)
class ScoreBand:
    min: int  # the lowest total in this band (the next band up starts where this one ends)
    label: str  # 「70〜99点」
    reading: str  # what a total in this band means, and what to do next


@dataclass(frozen=True)
class Checklist:
    title: str
    publisher: str
    url: str
    answers: tuple[AnswerOption, ...]
    categories: tuple[Category, ...]
    items: tuple[ChecklistItem, ...]
    bands: tuple[ScoreBand, ...] = ()  # highest first

    def band(self, total: int) -> ScoreBand | None:
        """The band the total falls in (None without bands)."""
        return next((b for b in self.bands if total >= b.min), self.bands[-1] if self.bands else None)

    def item(self, no: int) -> ChecklistItem:
        return self.items[no - 1]

    def category_of(self, item_no: int) -> Category:
        return next(c for c in self.categories if c.contains(item_no))

    @property
    def max_score(self) -> int:
        return max(a.score for a in self.answers) * len(self.items)


@dataclass(frozen=True)
class SecurityAction:
    url: str
    one_star_name: str
    one_star_requirement: str
    one_star_items: tuple[int, ...]
    two_star_name: str
    two_star_requirement: str
    two_star_steps: tuple[str, ...]


@dataclass(frozen=True)
class PolicyCommitment:
    id: str
    label: str  # on a button: keep or drop it
    heading: str
    text: str


@dataclass(frozen=True)
class PolicyTemplate:
    """The 情報セキュリティ基本方針 a company drafts for SECURITY ACTION ★★ (policy_template.yaml)."""

    title: str
    preamble: str  # {company}
    commitments: tuple[PolicyCommitment, ...]
    signature: tuple[str, ...]  # lines set flush right: {date}, {company}, {title}, {name}

    def commitment(self, commitment_id: str) -> PolicyCommitment | None:
        return next((c for c in self.commitments if c.id == commitment_id), None)


class Texts:
    """Reply texts by key; `render` fills the placeholders."""

    def __init__(self, entries: dict[str, str]):
        self._entries = entries

    def __getitem__(self, key: str) -> str:
        return self._entries[key]

    def render(self, key: str, **params: Any) -> str:
        return self._entries[key].format(**params)

    def date(self, day: date) -> str:
        return self.render("format.date", year=day.year, month=day.month, day=day.day)

    def short_date(self, day: date, *, today: date | None = None) -> str:
        """「11月27日(金)」; with the year when `today` is given and falls in another year."""
        weekday = self._entries["format.weekdays"].split(",")[day.weekday()]
        if today is not None and day.year != today.year:
            return self.render("format.short_date_year", year=day.year, month=day.month, day=day.day,
                               weekday=weekday)
        return self.render("format.short_date", month=day.month, day=day.day, weekday=weekday)

    def bullets(self, items: Iterable[str], key: str = "list.bullet") -> str:
        return "\n".join(self.render(key, item=item) for item in items)

    def join(self, items: Iterable[str]) -> str:
        """Items in a sentence: 「A、B、C」."""
        return self._entries["list.separator"].join(items)

    def date_time(self, moment: datetime) -> str:
        return self.render("format.date_time", year=moment.year, month=moment.month, day=moment.day,
                           hour=moment.hour, minute=moment.minute)

    def short_date_time(self, moment: datetime) -> str:
        return self.render("format.short_date_time", month=moment.month, day=moment.day, hour=moment.hour,
                           minute=moment.minute)

    def numbered(self, items: Iterable[str]) -> str:
        return "\n".join(self.render("list.numbered", n=n, item=item) for n, item in enumerate(items, start=1))


@dataclass(frozen=True)
class Phrases:
    """What free text the bot understands outside of choices."""

    commands: dict[str, tuple[str, ...]]  # whole-message commands: menu, cancel, back...
    topics: dict[str, tuple[str, ...]]  # phrases found inside a message: diagnosis, history...
    numbered: dict[str, tuple[str, ...]]  # a word followed by a number: 「学習 3」
    # Endings that leave a command a command (「メニューにしてください」), longest first.
    polite_tails: tuple[str, ...] = ()
    # Words that may follow a choice's number (「3番」).
    number_suffixes: frozenset[str] = frozenset()
    # The words for the first, second... choice shown (「ひとつめ」).
    ordinals: tuple[tuple[str, ...], ...] = ()
    # What people type for an answer, by what it means (yes, no, unknown, done, partial...): a choice
    # marked with a meaning (Choice.means) is picked by any of its words.
    accepted: dict[str, tuple[str, ...]] = field(default_factory=dict)  # phrases.yaml `answers`
    # What ends the local chat (`bot chat`) besides Ctrl-D.
    quit: tuple[str, ...] = ()


@dataclass(frozen=True)
class Content:
    checklist: Checklist
    security_action: SecurityAction
    texts: Texts
    phrases: Phrases
    lessons: dict[int, Lesson]  # by checklist item
    intents: IntentSpec
    incidents: IncidentContent
    policy_template: PolicyTemplate


# Notes for the people who keep the content: shipped, never read by the bot.
DOCUMENTS = frozenset({"STYLE.md"})

FILES = {
    "checklist.yaml": schema.CHECKLIST,
    "security_action.yaml": schema.SECURITY_ACTION,
    "texts.yaml": schema.TEXTS,
    "phrases.yaml": schema.PHRASES,
}


def _checklist_problems(data: dict) -> list[ContentProblem]:
    problems = []

    def problem(field: str, message: str) -> None:
        problems.append(ContentProblem("checklist.yaml", field, message))

    numbers = [item["no"] for item in data["items"]]
    if numbers != list(range(1, len(numbers) + 1)):
        problem("items", f"items must be numbered 1..{len(numbers)} in order, found {numbers}")
    expected_ids = ["done", "partial", "not_done", "unknown"]
    if [a["id"] for a in data["answers"]] != expected_ids:
        problem("answers", f"answers must be {expected_ids} in this order")
    covered: list[int] = []
    for i, category in enumerate(data["categories"]):
        if category["first"] > category["last"]:
            problem(f"categories[{i}]", "first is after last")
        covered.extend(range(category["first"], category["last"] + 1))
    if covered != list(range(1, len(numbers) + 1)):
        problem("categories", "categories must cover every item exactly once, in order")
    mins = [band["min"] for band in data["score_bands"]]
    if mins != sorted(mins, reverse=True) or len(set(mins)) != len(mins):
        problem("score_bands", f"bands go from the highest min to the lowest, each once; found {mins}")
    scores = [a["score"] for a in data["answers"]]
    lowest, highest = min(scores) * len(numbers), max(scores) * len(numbers)
    if mins and mins[-1] > lowest:
        problem(f"score_bands[{len(mins) - 1}].min", f"the last band must reach the lowest total, {lowest}")
    if mins and mins[0] > highest:
        problem("score_bands[0].min", f"no total reaches {mins[0]} (the highest is {highest})")
    footnotes = data.get("footnotes") or {}
    for i, item in enumerate(data["items"]):
        for mark in item["footnotes"]:
            if mark not in footnotes:
                problem(f"items[{i}].footnotes", f"{mark} is not defined under footnotes")
            if mark not in item["question"]:
                problem(f"items[{i}].footnotes", f"{mark} does not appear in the question")
        for mark in footnotes:
            if mark in item["question"] and mark not in item["footnotes"]:
                problem(f"items[{i}].footnotes", f"the question uses {mark} but does not list it")
    return problems


def _security_action_problems(data: dict, item_count: int) -> list[ContentProblem]:
    bad = [n for n in data["one_star"]["items"] if not 1 <= n <= item_count]
    if bad:
        return [ContentProblem("security_action.yaml", "one_star.items", f"no checklist item {bad}")]
    return []


POLICY_TEMPLATE_FILE = "policy_template.yaml"
_POLICY_PLACEHOLDERS = {"preamble": {"company"}, "signature": {"date", "company", "title", "name"}}


def _policy_template_problems(data: dict) -> list[ContentProblem]:
    problems = []
    formatter = string.Formatter()
    ids = [c["id"] for c in data["commitments"]]
    for commitment_id in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(ContentProblem(POLICY_TEMPLATE_FILE, "commitments", f"the id {commitment_id!r} is used twice"))
    for field_name, allowed in _POLICY_PLACEHOLDERS.items():
        texts = data[field_name] if isinstance(data[field_name], list) else [data[field_name]]
        for i, text in enumerate(texts):
            where = f"{field_name}[{i}]" if isinstance(data[field_name], list) else field_name
            try:
                used = {name for _, name, _, _ in formatter.parse(text) if name is not None}
            except ValueError as exc:
                problems.append(ContentProblem(POLICY_TEMPLATE_FILE, where, f"bad placeholder syntax: {exc}"))
                continue
            if used - allowed:
                problems.append(ContentProblem(POLICY_TEMPLATE_FILE, where, (
                    f"unknown placeholder(s) {sorted(used - allowed)}; allowed: {', '.join(sorted(allowed))}")))
    for i, commitment in enumerate(data["commitments"]):
        for field_name in ("heading", "text"):
            if "{" in commitment[field_name] or "}" in commitment[field_name]:
                problems.append(ContentProblem(POLICY_TEMPLATE_FILE, f"commitments[{i}].{field_name}",
                                               "no placeholders here (braces are not allowed)"))
    return problems


def _texts_problems(data: dict) -> list[ContentProblem]:
    problems = []
    formatter = string.Formatter()
    for key in REQUIRED_TEXTS:
        if key not in data:
            problems.append(ContentProblem("texts.yaml", key, "missing (the code uses this text)"))
    for key, text in data.items():
        if key not in REQUIRED_TEXTS:
            problems.append(ContentProblem("texts.yaml", key, "unknown key (not used by the code; a typo?)"))
            continue
        try:
            used = {name for _, name, _, _ in formatter.parse(text) if name is not None}
        except ValueError as exc:
            problems.append(ContentProblem("texts.yaml", key, f"bad placeholder syntax: {exc}"))
            continue
        if key == "format.weekdays" and len(text.split(",")) != 7:
            problems.append(ContentProblem("texts.yaml", key, "needs the 7 weekdays, Monday first, comma-separated"))
        unknown = used - REQUIRED_TEXTS[key]
        if unknown:
            allowed = ", ".join(sorted(REQUIRED_TEXTS[key])) or "none"
            problems.append(ContentProblem(
                "texts.yaml", key, f"unknown placeholder(s) {sorted(unknown)}; allowed: {allowed}"))
    return problems


# What the spelling list does not apply to: IPA's own words (the 25 questions and their footnotes)
# and what users type (phrases.yaml: read, never shown).
_SPELLING_EXEMPT = {"checklist.yaml": ("items[*].question", "footnotes"), "phrases.yaml": ("",)}


def _spelling_problems(spelling: Spelling | None, loaded: dict[str, Any]) -> list[ContentProblem]:
    if spelling is None:
        return []
    problems = []
    for name, data in loaded.items():
        skip = _SPELLING_EXEMPT.get(name, ())
        if data is not None and "" not in skip:
            problems.extend(spelling.problems(name, data, skip=skip))
    return problems


def _answer_word_problems(phrases: dict, checklist: dict | None,
                          incidents: IncidentContent | None) -> list[ContentProblem]:
    """Every answer a question offers has the words people type for it (phrases.yaml answers)."""
    meanings = set(phrases["answers"])
    problems = []
    for i, answer in enumerate((checklist or {}).get("answers", ())):
        if answer["id"] not in meanings:
            problems.append(ContentProblem("phrases.yaml", f"answers.{answer['id']}",
                                           f"missing: the words typed for the self-check answer {answer['label']!r} "
                                           f"(checklist.yaml answers[{i}])"))
    options = {a: step.labels[a] for p in (incidents.playbooks.values() if incidents else ())
               for step in p.triage for a in step.labels}
    for option, label in options.items():
        if option not in meanings:
            problems.append(ContentProblem("phrases.yaml", f"answers.{option}",
                                           f"missing: the words typed for the option {label!r} ({TRIAGE_FILE})"))
    return problems


SAMPLE_INCIDENT_ID = "INC-20261124-ABCDEF"  # as long as a real one (bot/flows/incidents/records.py)
BUTTON_MAX = 20  # LINE quick-reply labels hold 20 characters


def _first_message_problems(texts: Texts, incidents: IncidentContent) -> list[ContentProblem]:
    """The first incident message (the URGENT_STEPS first steps) fits a phone: at most FIRST_MESSAGE_MAX
    characters as rendered; the button to the rest fits a quick reply."""
    problems = []
    for kind, playbook in incidents.playbooks.items():
        first = texts.render("incident.first_steps", name=playbook.name,
                             do=texts.numbered(playbook.do[:schema.URGENT_STEPS]), id=SAMPLE_INCIDENT_ID)
        if len(first) > schema.FIRST_MESSAGE_MAX:
            problems.append(ContentProblem(playbook_file(kind), "do", (
                f"the first message (name and the first {schema.URGENT_STEPS} steps) is {len(first)} characters; "
                f"at most {schema.FIRST_MESSAGE_MAX} fit a phone screen: shorten them")))
    if len(texts["incident.more"]) > BUTTON_MAX:
        problems.append(ContentProblem("texts.yaml", "incident.more", f"a button label holds {BUTTON_MAX} characters"))
    return problems


def _unknown_files(content_dir: Path, kinds: tuple[str, ...] | None) -> list[ContentProblem]:
    """Files the bot would never read (a typo in a name, a leftover): said rather than ignored.

    A playbook is read when its kind is listed in incidents/policy.yaml; while that file cannot
    be read (its own problem is reported), files in incidents/ are not called unknown.
    """
    known = set(FILES) | {POLICY_TEMPLATE_FILE, INTENTS_FILE, EXAMPLES_FILE, CONTACTS_FILE, TRIAGE_FILE, POLICY_FILE, SPELLING_FILE}
    known |= {playbook_file(kind) for kind in kinds or ()}
    problems = []
    for path in sorted(p for p in content_dir.rglob("*") if p.is_file()):
        name = path.relative_to(content_dir).as_posix()
        if name.startswith(f"{LESSONS_DIR}/") or name in known:
            continue  # lessons/ has its own naming check
        if path.name == "__init__.py" or "__pycache__" in Path(name).parts:
            continue  # the directory is also shipped as a Python package (bot.content.data)
        if name in DOCUMENTS:
            continue  # notes for the people who keep the content
        if kinds is None and name.startswith(f"{INCIDENTS_DIR}/"):
            continue
        problems.append(ContentProblem(name, "", "unknown file: the bot does not read it"))
    return problems


def _read_content(content_dir: Path) -> tuple[list[ContentProblem], Content | None]:
    """Every problem, and the content when there is none: each file is parsed once."""
    problems: list[ContentProblem] = []
    spelling = read_spelling(content_dir, problems)
    loaded: dict[str, Any] = {name: read_valid(content_dir / name, name, file_schema, problems)
                              for name, file_schema in FILES.items()}
    checklist, action, texts, phrases = (loaded[name] for name in FILES)
    problems.extend(_spelling_problems(spelling, loaded))
    lessons = None
    if checklist is not None:
        problems.extend(_checklist_problems(checklist))
        item_count = len(checklist["items"])
        lessons = read_lessons(content_dir, item_count, problems, spelling=spelling)
        if action is not None:
            problems.extend(_security_action_problems(action, item_count))
    if texts is not None:
        problems.extend(_texts_problems(texts))
    template = read_valid(content_dir / POLICY_TEMPLATE_FILE, POLICY_TEMPLATE_FILE, schema.POLICY_TEMPLATE, problems)
    if template is not None:
        problems.extend(_policy_template_problems(template))
        problems.extend(_spelling_problems(spelling, {POLICY_TEMPLATE_FILE: template}))
    policy = read_policy(content_dir, problems)
    kinds = policy_kinds(policy)
    intents = read_intents(content_dir, kinds, problems)
    incidents = read_incidents(content_dir, policy, problems, spelling=spelling)
    if phrases is not None:
        problems.extend(_answer_word_problems(phrases, checklist, incidents))
    if texts is not None and incidents is not None and not problems:
        problems.extend(_first_message_problems(Texts(texts), incidents))
    problems = _unknown_files(content_dir, kinds) + problems
    if problems:
        return problems, None
    assert lessons is not None and intents is not None and incidents is not None
    return [], _build(checklist, action, texts, phrases, lessons, intents, incidents, template)


def check_content(content_dir: Path) -> list[ContentProblem]:
    """Every problem in the content directory; empty when all is well."""
    return _read_content(content_dir)[0]


def load_content(content_dir: Path) -> Content:
    """Load and validate everything; raise ContentError listing every problem."""
    problems, content = _read_content(content_dir)
    if content is None:
        raise ContentError(problems)
    return content


def _build(checklist: dict, action: dict, texts: dict, phrases: dict, lessons: dict[int, Lesson],
           intents: IntentSpec, incidents: IncidentContent, template: dict) -> Content:
    footnotes = checklist.get("footnotes") or {}
    return Content(
        checklist=Checklist(
            title=checklist["source"]["title"],
            publisher=checklist["source"]["publisher"],
            url=checklist["source"]["url"],
            answers=tuple(AnswerOption(**a) for a in checklist["answers"]),
            categories=tuple(Category(**c) for c in checklist["categories"]),
            items=tuple(
                ChecklistItem(
                    no=i["no"],
                    topic=i["topic"],
                    action=i["action"],
                    question=i["question"],
                    footnotes=tuple((mark, footnotes[mark]) for mark in i["footnotes"]),
                    countermeasure=i["countermeasure"].strip(),
                    how_to_check=i["how_to_check"].strip(),
                )
                for i in checklist["items"]
            ),
            bands=tuple(ScoreBand(**band) for band in checklist["score_bands"]),
        ),
        security_action=SecurityAction(
            url=action["url"],
            one_star_name=action["one_star"]["name"],
            one_star_requirement=action["one_star"]["requirement"],
            one_star_items=tuple(action["one_star"]["items"]),
            two_star_name=action["two_star"]["name"],
            two_star_requirement=action["two_star"]["requirement"],
            two_star_steps=tuple(action["two_star"]["steps"]),
        ),
        texts=Texts(texts),
        phrases=Phrases(
            commands={k: tuple(v) for k, v in phrases["commands"].items()},
            topics={k: tuple(v) for k, v in phrases["topics"].items()},
            numbered={k: tuple(v) for k, v in phrases["numbered"].items()},
            polite_tails=tuple(phrases["polite_tails"]),
            number_suffixes=frozenset(phrases["number_suffixes"]),
            ordinals=tuple(tuple(words) for words in phrases["ordinals"]),
            accepted={k: tuple(v) for k, v in phrases["answers"].items()},
            quit=tuple(phrases["quit"]),
        ),
        lessons=lessons,
        intents=intents,
        incidents=incidents,
        policy_template=_policy_template(template),
    )


def _policy_template(data: dict) -> PolicyTemplate:
    return PolicyTemplate(
        title=data["title"], preamble=data["preamble"].strip(),
        commitments=tuple(PolicyCommitment(c["id"], c["label"], c["heading"], c["text"].strip())
                          for c in data["commitments"]),
        signature=tuple(data["signature"]))
