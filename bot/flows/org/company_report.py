"""The company report, computed: a pure function of the loaded data (company_data.py), the content
and the moment it is made. The chat, the Slack home tab, `bot org report` and the tests share it.

- Participation: the employees (company_data.py says who), who did the self-check and when last.
- Scores: each employee's latest result; the distribution over the checklist's score bands, the
  median and mean total, the category means; the items most answered 実施していない or わからない.
- The previous quarter: the same figures over each employee's latest result as of the end of the
  previous calendar quarter (JST).
- Learning: per theme, who passed it; the certificates held (revoked and erased ones left out).
- Incidents: those still open (受付 or 対応中), their age and the 個人情報保護委員会 dates while
  a report is or may be required (bot/flows/incidents/escalation.py).
- The company's own self-check (per site) beside what the employees answered.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.content.loader import Content
from bot.flows.incidents.escalation import CHECK, REQUIRED, leak_deadlines, leak_report
from bot.flows.org.company_checks import latest_per_site
from bot.flows.org.company_data import CompanyData, PersonData
from bot.flows.org.security_action import Readiness, SecurityPolicy, readiness
from bot.flows.selfcheck.scoring import NOT_DONE, UNKNOWN
from bot.store.keys import ConversationKey

JST = ZoneInfo("Asia/Tokyo")
OPEN_STATUSES = ("received", "in_progress")
WEAK_ITEMS = 5  # the items most answered 実施していない / わからない
DIFFERING_ITEMS = 5  # per site: the items where the company and its employees differ most
COURSE = 0  # the item of the whole-course certificate


@dataclass(frozen=True)
class Employee:
    who: ConversationKey
    name: str
    latest: dict | None  # the latest self-check result
    checks: int  # how many self-checks they did
    passed: tuple[int, ...]  # lesson themes passed (checklist items)
    certificates: tuple[tuple[int, str, str], ...]  # (item, theme, certificate id) held; item 0: the course

    @property
    def last_at(self) -> datetime | None:
        return datetime.fromisoformat(self.latest["at"]) if self.latest else None


@dataclass(frozen=True)
class Scores:
    """Figures over one latest result per person."""

    people: int
    median: float | None
    mean: float | None
    categories: tuple[tuple[str, str, float, int], ...]  # (id, name, mean points, max points)
    bands: tuple[tuple[str, int], ...]  # (band label, people), highest band first


@dataclass(frozen=True)
class WeakItem:
    no: int
    not_done: int
    unknown: int

    @property
    def count(self) -> int:
        return self.not_done + self.unknown


@dataclass(frozen=True)
class Theme:
    item: int
    passed: tuple[str, ...]  # names of the employees who passed it


@dataclass(frozen=True)
class OpenIncident:
    id: str
    kind: str
    status: str
    reported_at: datetime
    age: timedelta
    leak: str  # REQUIRED, CHECK, or "" (no 漏えい等報告 date running)
    preliminary_by: date | None = None  # 速報
    final_by: date | None = None  # 確報


@dataclass(frozen=True)
class ItemDifference:
    no: int
    company_answer: int  # answer index (DONE, PARTIAL, NOT_DONE, UNKNOWN)
    company_points: int
    employees_points: float  # the employees' mean points on the item
    employees_weak: int  # employees who answered 実施していない or わからない

    @property
    def gap(self) -> float:
        return self.company_points - self.employees_points


@dataclass(frozen=True)
class CompanyCheck:
    site: str
    at: datetime
    by: str
    total: int
    categories: tuple[tuple[str, str, int, int], ...]  # (id, name, points, max points)
    differences: tuple[ItemDifference, ...]  # largest gap first


@dataclass(frozen=True)
class CompanyReport:
    org_id: str
    org_name: str
    at: datetime
    employees: tuple[Employee, ...]  # sorted by name
    scores: Scores
    quarter_start: date  # the previous quarter's figures are as of the end of the day before
    previous: Scores
    weak_items: tuple[WeakItem, ...]
    themes: tuple[Theme, ...]  # every lesson theme, in checklist order
    incidents: tuple[OpenIncident, ...]  # oldest first
    company_checks: tuple[CompanyCheck, ...]
    # SECURITY ACTION, from the company's own self-check (the whole company's, else the latest site's)
    security_action: Readiness | None = None

    @property
    def done(self) -> tuple[Employee, ...]:
        """Who did the self-check, the most recent first."""
        return tuple(sorted((e for e in self.employees if e.latest), key=lambda e: e.last_at, reverse=True))

    @property
    def not_done(self) -> tuple[Employee, ...]:
        return tuple(e for e in self.employees if not e.latest)

    @property
    def certificates_held(self) -> int:
        return sum(len(e.certificates) for e in self.employees)


def quarter_start(moment: datetime) -> datetime:
    """The start (JST) of the calendar quarter `moment` falls in."""
    local = moment.astimezone(JST)
    return datetime(local.year, 3 * ((local.month - 1) // 3) + 1, 1, tzinfo=JST)


def display_name(person: PersonData, incidents: list[dict]) -> str:
    """The name the platform gave (cached a day), else the one on their latest certificate or report,
    else their user id."""
    if person.name:
        return person.name
    for record in reversed(person.certificates):
        if record.get("holder"):
            return record["holder"]
    who = [person.who.platform, person.who.workspace, person.who.user]
    named = [i["reporter_name"] for i in incidents if i["reporter"] == who and i.get("reporter_name")]
    return named[-1] if named else person.who.user


def _held(person: PersonData) -> tuple[tuple[int, str, str], ...]:
    held = []
    for record in person.certificates:
        if record.get("erased") or record.get("revoked"):
            continue
        held.append((int(record.get("item", -1)), record.get("theme", ""),
                     f"{record.get('serial', '')}-{record.get('signature', '')}"))
    return tuple(sorted(held, key=lambda c: (c[0] == COURSE, c[0], c[2])))


def _latest_before(results: list[dict], until: datetime | None) -> dict | None:
    kept = [r for r in results if until is None or datetime.fromisoformat(r["at"]) < until]
    return max(kept, key=lambda r: datetime.fromisoformat(r["at"])) if kept else None


def scores_of(latest: list[dict], content: Content) -> Scores:
    checklist = content.checklist
    best = max(option.score for option in checklist.answers)
    totals = [r["total"] for r in latest]
    categories = tuple(
        (c.id, c.name, statistics.fmean(r["categories"].get(c.id, 0) for r in latest) if latest else 0.0,
         best * c.item_count)
        for c in checklist.categories)
    bands = tuple((band.label, sum(1 for r in latest if checklist.band(r["total"]) == band))
                  for band in checklist.bands)
    return Scores(people=len(latest), median=statistics.median(totals) if totals else None,
                  mean=statistics.fmean(totals) if totals else None, categories=categories, bands=bands)


def weak_items(latest: list[dict], *, limit: int = WEAK_ITEMS) -> tuple[WeakItem, ...]:
    """The items the most employees answered 実施していない or わからない (ties: checklist order)."""
    if not latest:
        return ()
    items = [WeakItem(no, sum(1 for r in latest if r["answers"][no - 1] == NOT_DONE),
                      sum(1 for r in latest if r["answers"][no - 1] == UNKNOWN))
             for no in range(1, len(latest[0]["answers"]) + 1)]
    ranked = sorted((i for i in items if i.count), key=lambda i: (-i.count, i.no))
    return tuple(ranked[:limit])


def _open_incident(incident: dict, content: Content, now: datetime) -> OpenIncident | None:
    playbook = content.incidents.playbooks.get(incident["kind"])
    if playbook is None or incident["status"] not in OPEN_STATUSES:
        return None
    reported = datetime.fromisoformat(incident["reported_at"])
    leak = leak_report(playbook, incident["answers"], content.incidents.escalation).status
    if leak not in (REQUIRED, CHECK):
        return OpenIncident(incident["id"], incident["kind"], incident["status"], reported, now - reported, "")
    deadlines = leak_deadlines(playbook, reported.astimezone(JST))
    return OpenIncident(incident["id"], incident["kind"], incident["status"], reported, now - reported, leak,
                        deadlines.preliminary_by, deadlines.final_by)


def _company_check(record: dict, latest: list[dict], content: Content, *, limit: int) -> CompanyCheck:
    checklist = content.checklist
    points = [option.score for option in checklist.answers]
    best = max(points)
    differences = []
    for no in range(1, len(checklist.items) + 1):
        answer = record["answers"][no - 1]
        if latest:
            employees = statistics.fmean(points[r["answers"][no - 1]] for r in latest)
            weak = sum(1 for r in latest if r["answers"][no - 1] in (NOT_DONE, UNKNOWN))
            differences.append(ItemDifference(no, answer, points[answer], employees, weak))
    differences.sort(key=lambda d: (-abs(d.gap), d.no))
    return CompanyCheck(
        site=record.get("site", ""), at=datetime.fromisoformat(record["at"]),
        by=(record.get("by") or {}).get("name", ""), total=record["total"],
        categories=tuple((c.id, c.name, record["categories"].get(c.id, 0), best * c.item_count)
                         for c in checklist.categories),
        differences=tuple(d for d in differences if d.gap)[:limit])


def compute_report(data: CompanyData, content: Content, now: datetime) -> CompanyReport:
    """The report on `data` as of `now`."""
    start = quarter_start(now)
    employees = []
    previous_latest = []
    for person in data.people:
        latest = _latest_before(person.results, None)
        before = _latest_before(person.results, start)
        if before is not None:
            previous_latest.append(before)
        passed = tuple(sorted(item for item, p in person.lessons.items() if p.get("passed_at")))
        employees.append(Employee(who=person.who, name=display_name(person, data.incidents), latest=latest,
                                  checks=len(person.results), passed=passed,
                                  certificates=_held(person)))
    employees.sort(key=lambda e: (e.name, e.who.platform, e.who.workspace, e.who.user))
    latest = [e.latest for e in employees if e.latest]
    themes = tuple(Theme(item, tuple(e.name for e in employees if item in e.passed)) for item in sorted(content.lessons))
    incidents = sorted((i for raw in data.incidents if (i := _open_incident(raw, content, now)) is not None),
                       key=lambda i: i.reported_at)
    checks = tuple(_company_check(record, latest, content, limit=DIFFERING_ITEMS)
                   for record in latest_per_site(data.company_checks))
    return CompanyReport(
        org_id=data.org_id, org_name=data.org_name, at=now, employees=tuple(employees),
        scores=scores_of(latest, content), quarter_start=start.date(), previous=scores_of(previous_latest, content),
        weak_items=weak_items(latest), themes=themes, incidents=tuple(incidents), company_checks=checks,
        security_action=_readiness(data, content))


def _readiness(data: CompanyData, content: Content) -> Readiness:
    checks = latest_per_site(data.company_checks)
    whole = content.texts["company_check.whole"]
    chosen = next((c for c in checks if c.get("site") == whole), None) or (
        max(checks, key=lambda c: c["at"]) if checks else None)
    policy = SecurityPolicy.from_fields(data.policy) if data.policy.get("company") else None
    return readiness(list(chosen["answers"]) if chosen else None, policy,
                     one_star_items=content.security_action.one_star_items)
