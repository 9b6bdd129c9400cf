"""content/incidents/ (playbooks and triage questions) and content/contacts.yaml."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from bot.content import schema
from bot.content.problems import ContentProblem, field_path

DIRECTORY = "incidents"
TRIAGE_FILE = "incidents/triage.yaml"
CONTACTS_FILE = "contacts.yaml"


@dataclass(frozen=True)
class TriageStep:
    id: str
    question: str
    if_yes: str
    if_unknown: str


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


@dataclass(frozen=True)
class Hours:
    always: bool = False
    weekdays: tuple[tuple[str, str], ...] = ()
    closed_on_holidays: bool = False
    year_end_closure: bool = False


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
    for_kinds: tuple[str, ...] = ()
    when_yes: tuple[str, ...] = ()
    emergency: bool = False


@dataclass(frozen=True)
class IncidentContent:
    playbooks: dict[str, Playbook]
    contacts: dict[str, Contact]


def _load(path: Path, name: str, file_schema: dict, problems: list[ContentProblem]) -> Any:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(ContentProblem(name, "", "file is missing"))
        return None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        problems.append(ContentProblem(name, "", f"not valid YAML: {exc}"))
        return None
    errors = sorted(jsonschema.Draft202012Validator(file_schema).iter_errors(data),
                    key=lambda e: list(map(str, e.absolute_path)))
    problems.extend(ContentProblem(name, field_path(e.absolute_path), e.message) for e in errors)
    return None if errors else data


def check_incidents(content_dir: Path) -> list[ContentProblem]:
    problems: list[ContentProblem] = []
    contacts = _load(content_dir / CONTACTS_FILE, CONTACTS_FILE, schema.CONTACTS, problems)
    _load(content_dir / TRIAGE_FILE, TRIAGE_FILE, schema.TRIAGE, problems)
    contact_ids = [c["id"] for c in contacts["contacts"]] if contacts else []
    duplicates = {c for c in contact_ids if contact_ids.count(c) > 1}
    if duplicates:
        problems.append(ContentProblem(CONTACTS_FILE, "contacts", f"ids used twice: {sorted(duplicates)}"))
    for i, contact in enumerate(contacts["contacts"] if contacts else []):
        hours = contact["hours"]
        if not hours.get("always") and not hours.get("weekdays"):
            problems.append(ContentProblem(CONTACTS_FILE, f"contacts[{i}].hours", "needs always or weekdays"))
        if not hours.get("always") and not contact.get("when_closed"):
            problems.append(ContentProblem(CONTACTS_FILE, f"contacts[{i}].when_closed",
                                           "a contact that closes must say what to do while it is closed"))
        if not (contact.get("phone") or contact.get("email") or contact.get("url") or contact.get("reach")):
            problems.append(ContentProblem(CONTACTS_FILE, f"contacts[{i}]", "needs a phone, email, url or reach"))
    seen = set()
    for kind in schema.INCIDENT_KINDS:
        name = f"{DIRECTORY}/{kind}.yaml"
        data = _load(content_dir / name, name, schema.INCIDENT, problems)
        if data is None:
            continue
        seen.add(kind)
        if data["id"] != kind:
            problems.append(ContentProblem(name, "id", f"is {data['id']} but the file is for {kind}"))
        for j, contact in enumerate(data["contacts"]):
            if contacts and contact not in contact_ids:
                problems.append(ContentProblem(name, f"contacts[{j}]", f"no contact {contact!r} in {CONTACTS_FILE}"))
        triage_ids = [step["id"] for step in data["triage"]]
        if len(set(triage_ids)) != len(triage_ids):
            problems.append(ContentProblem(name, "triage", "a triage question is asked twice"))
    return problems


def load_incidents(content_dir: Path) -> IncidentContent:
    questions = yaml.safe_load((content_dir / TRIAGE_FILE).read_text(encoding="utf-8"))
    playbooks = {}
    for kind in schema.INCIDENT_KINDS:
        data = yaml.safe_load((content_dir / DIRECTORY / f"{kind}.yaml").read_text(encoding="utf-8"))
        playbooks[kind] = Playbook(
            id=kind, name=data["name"], summary=data["summary"], severity=data["severity"],
            do=tuple(data["do"]), dont=tuple(data["dont"]),
            triage=tuple(TriageStep(step["id"], questions[step["id"]]["question"], step["if_yes"].strip(),
                                    step.get("if_unknown", "").strip()) for step in data["triage"]),
            follow_up=tuple(data["follow_up"]), contacts=tuple(data["contacts"]),
        )
    raw = yaml.safe_load((content_dir / CONTACTS_FILE).read_text(encoding="utf-8"))["contacts"]
    contacts = {}
    for c in raw:
        hours = c["hours"]
        contacts[c["id"]] = Contact(
            id=c["id"], name=c["name"], handles=c["handles"], source=c["source"], checked=str(c["checked"]),
            hours=Hours(always=bool(hours.get("always")),
                        weekdays=tuple(tuple(r) for r in hours.get("weekdays", ())),
                        closed_on_holidays=bool(hours.get("closed_on_holidays")),
                        year_end_closure=bool(hours.get("year_end_closure"))),
            not_for=c.get("not_for", ""), phone=c.get("phone", ""), email=c.get("email", ""), url=c.get("url", ""),
            reach=c.get("reach", ""), when_closed=c.get("when_closed", ""), for_kinds=tuple(c.get("for_kinds", ())),
            when_yes=tuple(c.get("when_yes", ())), emergency=bool(c.get("emergency")),
        )
    return IncidentContent(playbooks=playbooks, contacts=contacts)
