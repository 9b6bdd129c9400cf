"""content/incidents/ (the kinds, their playbooks, the triage questions and how each answer
escalates a report) and content/contacts.yaml.

- incidents/policy.yaml: the incident kinds in the order the chat offers them, the severity
  levels (lowest first) and the company roles told at each level.
- incidents/<kind>.yaml: one playbook per kind listed in the policy (its `id` is its file name).
- incidents/triage.yaml: the yes / no / unknown questions, and what each answer does to the
  severity and to who is told.

Adding a kind is a content edit: its playbook, its line in the policy, its examples in
intents.yaml.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from bot.content import schema
from bot.content.problems import ContentProblem
from bot.content.reader import read_valid, validator
from bot.content.schema import DAY_TYPES
from bot.content.spelling import Spelling
from bot.content.texts import REQUIRED_TEXTS

DIRECTORY = "incidents"
POLICY_FILE = "incidents/policy.yaml"
TRIAGE_FILE = "incidents/triage.yaml"
CONTACTS_FILE = "contacts.yaml"
ANSWERS = ("yes", "no", "unknown")  # how a triage question is answered
# Company roles: those the code has a label for (role.<id> in texts.yaml).
ROLES = tuple(key.removeprefix("role.") for key in REQUIRED_TEXTS if key.startswith("role."))
_RESERVED = frozenset({"triage", "policy"})  # file names in incidents/ that are not playbooks


def playbook_file(kind: str) -> str:
    return f"{DIRECTORY}/{kind}.yaml"


@dataclass(frozen=True)
class TriageStep:
    id: str
    question: str  # as this playbook words it
    advice: dict[str, str]  # what an answer brings, by answer
    answers: tuple[str, ...] = ANSWERS  # yes / no / unknown, or the question's options
    labels: dict[str, str] = field(default_factory=dict)  # an option's button label, by option
    unless: tuple[str, ...] = ()  # not asked after one of these answers ("question" or "question=answer")

    @property
    def if_yes(self) -> str:
        return self.advice.get("yes", "")

    @property
    def if_unknown(self) -> str:
        return self.advice.get("unknown", "")

    @property
    def has_options(self) -> bool:
        return bool(self.labels)


@dataclass(frozen=True)
class KindChange:
    """Facts beat labels: once every answer of `when` is given, the report is handled as `kind`."""

    kind: str
    when: tuple[str, ...]  # "question" (answered yes) or "question=answer"


@dataclass(frozen=True)
class Playbook:
    id: str
    name: str
    summary: str
    severity: str
    do: tuple[str, ...]
    dont: tuple[str, ...]
    triage: tuple[TriageStep, ...]
    follow_up: tuple[str, ...]
    contacts: tuple[str, ...]
    # A leak is presumed to be for an unlawful purpose: the PPC final report is due in 60 days, not 30.
    malicious: bool = False
    becomes: tuple[KindChange, ...] = ()  # tried in order after each answer


@dataclass(frozen=True)
class AnswerEffect:
    """What one answer to a triage question does to the report."""

    raise_by: int = 0  # severity levels up (at most the highest level)
    at_least: str = ""  # severity no lower than this level
    set_to: str = ""  # severity exactly this level (the highest such answer wins)
    roles: tuple[str, ...] = ()  # company roles told in addition to those of the severity
    leak_report: str = ""  # one of schema.LEAK_REPORT, or "" (says nothing about it)
    contacts: tuple[str, ...] = ()  # contacts this answer adds to any kind's report, shown at once


@dataclass(frozen=True)
class Escalation:
    """How severe a report is and who in the company is told."""

    severities: tuple[str, ...]  # lowest first
    roles: dict[str, tuple[str, ...]]  # by severity
    effects: dict[str, dict[str, AnswerEffect]]  # by triage question, then answer (yes / no / unknown)


# --- opening hours ---------------------------------------------------------------------
# A day is one of four types (schema.DAY_TYPES), each with its own ranges ("HH:MM" to "HH:MM",
# "24:00" for the end of the day): a public holiday (whatever weekday it falls on), a Saturday, a
# Sunday, or a weekday. A day type without ranges is closed. Closures (e.g. the year end) close
# every day they cover.
TimeRange = tuple[int, int]  # minutes after midnight: start, end (end up to 24 * 60)


def minutes(clock: str) -> int:
    """'08:30' -> 510; '24:00' -> 1440."""
    hour, minute = clock.split(":")
    return int(hour) * 60 + int(minute)


@dataclass(frozen=True)
class Closure:
    """Days closed every year, from start to end inclusive ((month, day) pairs); may run over the new year."""

    id: str
    start: tuple[int, int]
    end: tuple[int, int]
    label: str  # said to the user: why it is closed today

    def contains(self, day: date) -> bool:
        month_day = (day.month, day.day)
        if self.start <= self.end:
            return self.start <= month_day <= self.end
        return month_day >= self.start or month_day <= self.end


@dataclass(frozen=True)
class Hours:
    """When a contact answers.

    always: answered at any moment (110, a web site). Otherwise the ranges of each day type say when
    someone answers (a phone) or reads what was sent; accepts_any_time means a form or a mail can be
    sent at any moment even though it is read only in those ranges.
    """

    always: bool = False
    varies: bool = False  # each one has its own hours (your bank, your card company), not known here
    accepts_any_time: bool = False
    weekdays: tuple[TimeRange, ...] = ()
    saturdays: tuple[TimeRange, ...] = ()
    sundays: tuple[TimeRange, ...] = ()
    holidays: tuple[TimeRange, ...] = ()
    closures: tuple[Closure, ...] = ()

    def ranges(self, day_type: str) -> tuple[TimeRange, ...]:
        return getattr(self, day_type)


@dataclass(frozen=True)
class Contact:
    id: str
    name: str
    handles: str
    hours: Hours
    source: str
    checked: str
    not_for: str = ""
    phone: str = ""
    email: str = ""
    url: str = ""
    reach: str = ""
    when_closed: str = ""
    note: str = ""  # said with the contact in every reply (who it is for, what it does not take)
    for_kinds: tuple[str, ...] = ()
    when_yes: tuple[str, ...] = ()  # "question" (answered yes) or "question=answer"
    when_leak_report: bool = False  # routed whenever the 個人情報保護委員会 clock is shown
    always_for: tuple[str, ...] = ()  # kinds for which a conditional contact is routed whatever the answers
    unless: tuple[str, ...] = ()  # answers after which it is not routed (same syntax as when_yes)
    named_as: tuple[str, ...] = ()  # the words a playbook names it by
    emergency: bool = False
    # A contact the organisation registers for itself (own_contacts): what it registered is said
    # instead of a phone or an address, and `unset` while it has registered nothing.
    own: bool = False
    label: str = ""
    unset: str = ""

    @property
    def conditional(self) -> bool:
        return bool(self.when_yes) or self.when_leak_report


@dataclass(frozen=True)
class GeneralSteps:
    """When the kind is not clear: steps that are safe for any incident, and contacts for any incident."""

    do: tuple[str, ...]
    contacts: tuple[str, ...]


@dataclass(frozen=True)
class IncidentContent:
    kinds: tuple[str, ...]  # in the order the chat offers them
    playbooks: dict[str, Playbook]  # by kind, in the same order
    contacts: dict[str, Contact]  # the public ones, then the organisation's own (own=True)
    escalation: Escalation
    general: GeneralSteps = GeneralSteps((), ())
    # The company's people are told of a report at once when the classifier was at least this sure of
    # its kind; otherwise once the reporter confirms the kind or answers one of its questions.
    notify_confidence: float = 1.0
    questions: dict[str, str] = field(default_factory=dict)  # triage.yaml's wording, by question

    @property
    def own_contacts(self) -> dict[str, Contact]:
        return {cid: c for cid, c in self.contacts.items() if c.own}


# --- reading and checking ------------------------------------------------------------

def read_policy(content_dir: Path, problems: list[ContentProblem]) -> dict[str, Any] | None:
    """incidents/policy.yaml when valid (kinds, severities, roles), else None with its problems."""
    policy = read_valid(content_dir / POLICY_FILE, POLICY_FILE, schema.incident_policy_schema(ROLES), problems)
    if policy is None:
        return None
    found: list[ContentProblem] = []
    for i, kind in enumerate(policy["kinds"]):
        if kind in _RESERVED:
            found.append(ContentProblem(POLICY_FILE, f"kinds[{i}]", f"{kind!r} is the name of another file"))
    for i, level in enumerate(policy["severities"]):
        if f"incident.severity_{level}" not in REQUIRED_TEXTS:
            found.append(ContentProblem(POLICY_FILE, f"severities[{i}]",
                                        f"the code has no label incident.severity_{level} for {level!r}"))
        if level not in policy["roles"]:
            found.append(ContentProblem(POLICY_FILE, "roles", f"no roles for severity {level!r}"))
    for level in policy["roles"]:
        if level not in policy["severities"]:
            found.append(ContentProblem(POLICY_FILE, f"roles.{level}", f"{level!r} is not one of the severities"))
    problems.extend(found)
    return None if found else policy


def policy_kinds(policy: dict[str, Any] | None) -> tuple[str, ...] | None:
    return None if policy is None else tuple(policy["kinds"])


def _hours_problems(field: str, hours: dict[str, Any], closures: dict[str, Any]) -> list[ContentProblem]:
    problems = []
    day_types = [t for t in DAY_TYPES if hours.get(t)]
    for alone in ("always", "varies"):
        if hours.get(alone):
            extra = sorted(set(hours) - {alone})
            if extra:
                problems.append(ContentProblem(CONTACTS_FILE, field, f"{alone}: true leaves no room for {extra}"))
            return problems
    if not day_types:
        problems.append(ContentProblem(CONTACTS_FILE, field, f"needs always, or ranges for one of {list(DAY_TYPES)}"))
    for day_type in day_types:
        for j, (start, end) in enumerate(hours[day_type]):
            if minutes(start) >= minutes(end):
                problems.append(ContentProblem(CONTACTS_FILE, f"{field}.{day_type}[{j}]", "starts after it ends"))
    for j, closure in enumerate(hours.get("closed", ())):
        if closure not in closures:
            problems.append(ContentProblem(CONTACTS_FILE, f"{field}.closed[{j}]",
                                           f"no closure {closure!r} under closures"))
    return problems


def answers_of(question: dict[str, Any]) -> tuple[str, ...]:
    """The answers a triage question takes: its options, else yes / no / unknown."""
    return tuple(question["options"]) if "options" in question else ANSWERS


def _condition_problems(where: str, conditions: list[str], triage: dict[str, Any] | None,
                        name: str = "when_yes") -> list[ContentProblem]:
    """`when_yes` (or `unless`) entries of a contact."""
    return _answer_problems(CONTACTS_FILE, f"{where}.{name}", conditions, triage)


def _contacts_problems(contacts: dict[str, Any], triage: dict[str, Any] | None = None) -> list[ContentProblem]:
    problems = []
    for i, own in enumerate(contacts.get("own_contacts", ())):
        problems.extend(_condition_problems(f"own_contacts[{i}]", own.get("when_yes", []), triage))
    contact_ids = [c["id"] for c in contacts["contacts"]] + [c["id"] for c in contacts.get("own_contacts", ())]
    duplicates = {c for c in contact_ids if contact_ids.count(c) > 1}
    if duplicates:
        problems.append(ContentProblem(CONTACTS_FILE, "contacts", f"ids used twice: {sorted(duplicates)}"))
    closures = contacts.get("closures", {})
    for closure_id, closure in closures.items():
        for end in ("from", "to"):
            month, day = (int(part) for part in closure[end].split("-"))
            try:
                date(2024, month, day)  # a leap year: 02-29 is a day
            except ValueError:
                problems.append(ContentProblem(CONTACTS_FILE, f"closures.{closure_id}.{end}", "is not a day"))
    for i, contact in enumerate(contacts["contacts"]):
        problems.extend(_condition_problems(f"contacts[{i}]", contact.get("when_yes", []), triage))
        problems.extend(_condition_problems(f"contacts[{i}]", contact.get("unless", []), triage, "unless"))
        hours = contact["hours"]
        problems.extend(_hours_problems(f"contacts[{i}].hours", hours, closures))
        if not (hours.get("always") or hours.get("varies")) and not contact.get("when_closed"):
            problems.append(ContentProblem(CONTACTS_FILE, f"contacts[{i}].when_closed",
                                           "a contact that closes must say what to do while it is closed"))
        if not (contact.get("phone") or contact.get("email") or contact.get("url") or contact.get("reach")):
            problems.append(ContentProblem(CONTACTS_FILE, f"contacts[{i}]", "needs a phone, email, url or reach"))
    return problems


def _answer_problems(file: str, where: str, conditions: list[str],
                     triage: dict[str, Any] | None) -> list[ContentProblem]:
    """Conditions on triage answers: "question" (a yes/no question answered yes) or "question=answer"."""
    if triage is None:
        return []
    problems = []
    for j, condition in enumerate(conditions):
        question, _, answer = condition.partition("=")
        if question not in triage:
            problems.append(ContentProblem(file, f"{where}[{j}]", f"no triage question {question!r} in {TRIAGE_FILE}"))
        elif (answer or "yes") not in answers_of(triage[question]):
            problems.append(ContentProblem(file, f"{where}[{j}]", f"{question!r} is not answered {answer or 'yes'!r}; "
                                           f"its answers are {list(answers_of(triage[question]))}"))
    return problems


def _playbook_problems(name: str, kind: str, data: dict[str, Any], contact_ids: set[str] | None,
                       triage: dict[str, Any] | None, kinds: tuple[str, ...] | None = None) -> list[ContentProblem]:
    problems = []
    if data["id"] != kind:
        problems.append(ContentProblem(name, "id", f"is {data['id']} but the file is for {kind}"))
    for j, contact in enumerate(data["contacts"]):
        if contact_ids is not None and contact not in contact_ids:
            problems.append(ContentProblem(name, f"contacts[{j}]", f"no contact {contact!r} in {CONTACTS_FILE}"))
    triage_ids = [step["id"] for step in data["triage"]]
    if len(set(triage_ids)) != len(triage_ids):
        problems.append(ContentProblem(name, "triage", "a triage question is asked twice"))
    for j, step in enumerate(data["triage"]):
        problems.extend(_answer_problems(name, f"triage[{j}].unless", step.get("unless", []), triage))
    for j, change in enumerate(data.get("becomes", ())):
        where = f"becomes[{j}]"
        if kinds is not None and change["kind"] not in kinds:
            problems.append(ContentProblem(name, f"{where}.kind", f"{change['kind']!r} is not a kind of {POLICY_FILE}"))
        if change["kind"] == kind:
            problems.append(ContentProblem(name, f"{where}.kind", "a kind cannot become itself"))
        problems.extend(_answer_problems(name, f"{where}.when", change["when"], triage))
        unasked = [c for c in change["when"] if c.partition("=")[0] not in triage_ids]
        if unasked:
            problems.append(ContentProblem(name, f"{where}.when", f"{unasked}: not asked in this playbook"))
    for j, step in enumerate(data["triage"]):
        question = (triage or {}).get(step["id"])
        if question is None:
            continue
        answers = answers_of(question)
        given = [key.removeprefix("if_") for key in step if key.startswith("if_")]
        for answer in given:
            if answer not in answers:
                problems.append(ContentProblem(name, f"triage[{j}].if_{answer}",
                                               f"{step['id']!r} is not answered {answer!r}; its answers are "
                                               f"{list(answers)}"))
        needed = [a for a in answers if a not in given] if "options" in question else (
            [] if "yes" in given else ["yes"])
        if needed:
            problems.append(ContentProblem(name, f"triage[{j}]",
                                           f"no advice for {step['id']!r} answered {needed} (if_<answer>)"))
        if question.get("asked_per_kind") and "question" not in step:
            problems.append(ContentProblem(name, f"triage[{j}].question",
                                           f"{step['id']!r} is worded by each kind ({TRIAGE_FILE}: asked_per_kind): "
                                           "write this kind's question, with examples that fit it"))
    return problems


def _triage_problems(triage: dict[str, Any]) -> list[ContentProblem]:
    """on_<answer> effects name answers the question takes."""
    problems = []
    for qid, question in triage.items():
        answers = answers_of(question)
        for key in question:
            if key.startswith("on_") and key.removeprefix("on_") not in answers:
                problems.append(ContentProblem(TRIAGE_FILE, f"{qid}.{key}",
                                               f"{qid!r} is not answered {key.removeprefix('on_')!r}; its answers "
                                               f"are {list(answers)}"))
    return problems


def read_incidents(content_dir: Path, policy: dict[str, Any] | None,
                   problems: list[ContentProblem], *, spelling: Spelling | None = None) -> IncidentContent | None:
    """Triage questions, contacts and every playbook of the policy, checked against each other.

    `policy` is what read_policy returned (None: its problems are reported, and the rest is
    checked as far as it can be without it). None when anything here has a problem. With
    `spelling`, the texts of the triage questions, the contacts and the playbooks are checked against it.
    """
    before = len(problems)
    kinds = policy_kinds(policy)
    severities = None if policy is None else tuple(policy["severities"])
    triage = read_valid(content_dir / TRIAGE_FILE, TRIAGE_FILE, schema.triage_schema(severities, ROLES), problems)
    triage_ids = None if triage is None else tuple(triage)
    if triage is not None:
        problems.extend(_triage_problems(triage))
    contacts = read_valid(content_dir / CONTACTS_FILE, CONTACTS_FILE, schema.contacts_schema(kinds, triage_ids),
                          problems)
    if contacts is not None:
        problems.extend(_contacts_problems(contacts, triage))
    if spelling is not None:
        for name, data in ((TRIAGE_FILE, triage), (CONTACTS_FILE, contacts)):
            if data is not None:
                problems.extend(spelling.problems(name, data))
    contact_ids = None if contacts is None else {
        c["id"] for c in [*contacts["contacts"], *contacts.get("own_contacts", ())]}
    if contact_ids is not None:
        for qid, question in (triage or {}).items():
            for key, effect in question.items():
                for contact in effect.get("contacts", ()) if key.startswith("on_") else ():
                    if contact not in contact_ids:
                        problems.append(ContentProblem(TRIAGE_FILE, f"{qid}.{key}.contacts",
                                                       f"no contact {contact!r} in {CONTACTS_FILE}"))
        for j, contact in enumerate(policy["general"]["contacts"] if policy else ()):
            if contact not in contact_ids:
                problems.append(ContentProblem(POLICY_FILE, f"general.contacts[{j}]",
                                               f"no contact {contact!r} in {CONTACTS_FILE}"))
    playbook_schema = validator(schema.incident_schema(triage_ids, severities))
    raw_playbooks = {}
    for kind in kinds or ():
        name = playbook_file(kind)
        data = read_valid(content_dir / name, name, playbook_schema, problems)
        if data is not None:
            problems.extend(_playbook_problems(name, kind, data, contact_ids, triage, kinds))
            if spelling is not None:
                problems.extend(spelling.problems(name, data))
            raw_playbooks[kind] = data
    if len(problems) > before or policy is None:
        return None
    return IncidentContent(
        kinds=kinds,
        playbooks={kind: _playbook(data, triage) for kind, data in raw_playbooks.items()},
        contacts={**{c["id"]: _contact(c, contacts.get("closures", {})) for c in contacts["contacts"]},
                  **{c["id"]: _own_contact(c) for c in contacts.get("own_contacts", ())}},
        escalation=_escalation(policy, triage),
        general=GeneralSteps(do=tuple(policy["general"]["do"]), contacts=tuple(policy["general"]["contacts"])),
        notify_confidence=float(policy["notify_confidence"]),
        questions={qid: q["question"] for qid, q in triage.items()},
    )


# --- building --------------------------------------------------------------------------

def _step(step: dict[str, Any], question: dict[str, Any]) -> TriageStep:
    return TriageStep(
        id=step["id"], question=step.get("question", question["question"]),
        advice={key.removeprefix("if_"): value.strip() for key, value in step.items() if key.startswith("if_")},
        answers=answers_of(question), labels=dict(question.get("options", {})), unless=tuple(step.get("unless", ())))


def _playbook(data: dict[str, Any], questions: dict[str, Any]) -> Playbook:
    return Playbook(
        id=data["id"], name=data["name"], summary=data["summary"], severity=data["severity"],
        malicious=data["malicious"], do=tuple(data["do"]), dont=tuple(data["dont"]),
        triage=tuple(_step(step, questions[step["id"]]) for step in data["triage"]),
        follow_up=tuple(data["follow_up"]), contacts=tuple(data["contacts"]),
        becomes=tuple(KindChange(c["kind"], tuple(c["when"])) for c in data.get("becomes", ())),
    )


def _closure(closure_id: str, data: dict[str, Any]) -> Closure:
    start, end = (tuple(int(part) for part in data[key].split("-")) for key in ("from", "to"))
    return Closure(id=closure_id, start=start, end=end, label=data["label"])


def _hours(hours: dict[str, Any], closures: dict[str, Any]) -> Hours:
    ranges = {day_type: tuple((minutes(a), minutes(b)) for a, b in hours.get(day_type, ())) for day_type in DAY_TYPES}
    return Hours(always=bool(hours.get("always")), varies=bool(hours.get("varies")),
                 accepts_any_time=bool(hours.get("accepts_any_time")),
                 closures=tuple(_closure(c, closures[c]) for c in hours.get("closed", ())), **ranges)


def _contact(c: dict[str, Any], closures: dict[str, Any]) -> Contact:
    return Contact(
        id=c["id"], name=c["name"], handles=c["handles"], source=c["source"], checked=str(c["checked"]),
        hours=_hours(c["hours"], closures),
        not_for=c.get("not_for", ""), phone=c.get("phone", ""), email=c.get("email", ""), url=c.get("url", ""),
        reach=c.get("reach", ""), when_closed=c.get("when_closed", ""), note=c.get("note", ""),
        for_kinds=tuple(c.get("for_kinds", ())), when_yes=tuple(c.get("when_yes", ())),
        when_leak_report=bool(c.get("when_leak_report")), emergency=bool(c.get("emergency")),
        always_for=tuple(c.get("always_for", ())), named_as=tuple(c["named_as"]), unless=tuple(c.get("unless", ())),
    )


def _own_contact(c: dict[str, Any]) -> Contact:
    return Contact(
        id=c["id"], name=c["name"], handles=c["handles"], hours=Hours(varies=True), source="", checked="",
        for_kinds=tuple(c.get("for_kinds", ())), when_yes=tuple(c.get("when_yes", ())),
        when_leak_report=bool(c.get("when_leak_report")), own=True, label=c["label"], unset=c["unset"],
        always_for=tuple(c.get("always_for", ())), named_as=tuple(c["named_as"]),
    )


def _effect(data: dict[str, Any]) -> AnswerEffect:
    level = data.get("severity", {})
    return AnswerEffect(raise_by=level.get("raise", 0), at_least=level.get("at_least", ""),
                        set_to=level.get("set", ""), roles=tuple(data.get("roles", ())),
                        leak_report=data.get("leak_report", ""), contacts=tuple(data.get("contacts", ())))


def _escalation(policy: dict[str, Any], questions: dict[str, Any]) -> Escalation:
    return Escalation(
        severities=tuple(policy["severities"]),
        roles={level: tuple(policy["roles"][level]) for level in policy["severities"]},
        effects={qid: {answer: _effect(q[f"on_{answer}"]) for answer in answers_of(q) if f"on_{answer}" in q}
                 for qid, q in questions.items()},
    )
