"""The company report in words (for the chat and `bot org report`), as a CSV, and as the chart's
parameters. Every word is content (texts.yaml company.*); the numbers come from company_report.py."""
from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from bot.content.loader import Content
from bot.core.replies import Card, Field, Image
from bot.flows.org.company_chart import COMPANY_CHART
from bot.flows.org.company_report import (
    COURSE,
    CompanyCheck,
    CompanyReport,
    Employee,
    Scores,
)
from bot.flows.selfcheck.scoring import NOT_DONE, UNKNOWN

NAMES_SHOWN = 60  # names listed in one section before 「ほか N人」


def number(value: float | None) -> str:
    """72, 72.5 (one decimal at most); "-" when there is nothing to show."""
    if value is None:
        return "-"
    rounded = round(value, 1)
    return str(int(rounded)) if rounded == int(rounded) else f"{rounded:.1f}"


def signed(value: float) -> str:
    text = number(value)
    return f"+{text}" if round(value, 1) > 0 else ("±0" if round(value, 1) == 0 else text)


def _percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


class ReportText:
    """Renders one report with the content's texts."""

    def __init__(self, report: CompanyReport, content: Content):
        self.report = report
        self.content = content
        self.texts = content.texts

    def t(self, key: str, **params: Any) -> str:
        return self.texts.render(key, **params)

    def day(self, value: date) -> str:
        return self.texts.short_date(value, today=self.report.at.date())

    def _names(self, rows: list[str]) -> str:
        shown = rows[:NAMES_SHOWN]
        if len(rows) > len(shown):
            shown.append(self.t("company.more_people", count=len(rows) - len(shown)))
        return "\n".join(shown)

    # --- sections ----------------------------------------------------------------------------

    def heading(self) -> str:
        return self.t("company.heading", name=self.report.org_name, at=self.texts.date_time(self.report.at))

    def participation(self) -> str:
        report = self.report
        employees, done = len(report.employees), len(report.done)
        lines = [self.t("company.participation", employees=employees, done=done, rate=_percent(done, employees))]
        if report.done:
            rows = [self.t("company.done_row", name=e.name, date=self.day(e.last_at.date()), total=e.latest["total"],
                           checks=e.checks) for e in report.done]
            lines.append(self.t("company.done_heading") + "\n" + self._names(rows))
        if report.not_done:
            rows = [self.t("list.bullet", item=e.name) for e in report.not_done]
            lines.append(self.t("company.not_done_heading", count=len(report.not_done)) + "\n" + self._names(rows))
        elif employees:
            lines.append(self.t("company.everyone_done"))
        return "\n\n".join(lines)

    def _categories(self, scores: Scores) -> str:
        return "\n".join(self.t("company.category_row", name=name, mean=number(mean), max=maximum)
                         for _, name, mean, maximum in scores.categories)

    def scores(self) -> str:
        scores = self.report.scores
        if not scores.people:
            return self.t("company.no_scores")
        bands = "\n".join(self.t("company.band_row", label=label, count=count) for label, count in scores.bands)
        return self.t("company.scores", people=scores.people, median=number(scores.median), mean=number(scores.mean),
                      categories=self._categories(scores), bands=bands)

    def quarter(self) -> str:
        report = self.report
        previous, now = report.previous, report.scores
        end = self.day(date.fromordinal(report.quarter_start.toordinal() - 1))
        if not previous.people:
            return self.t("company.quarter_none", date=end)
        categories = self.texts.join(
            self.t("company.quarter_category", name=name, diff=signed(mean - before))
            for (_, name, mean, _), (_, _, before, _) in zip(now.categories, previous.categories))
        return self.t("company.quarter", date=end, people=previous.people, median=number(previous.median),
                      mean=number(previous.mean), people_now=now.people, median_now=number(now.median),
                      mean_now=number(now.mean), median_diff=signed(now.median - previous.median),
                      mean_diff=signed(now.mean - previous.mean), categories=categories)

    def weak_items(self) -> str:
        if not self.report.weak_items:
            return self.t("company.weak_none")
        blocks = [self.t("company.weak_heading", count=len(self.report.weak_items))]
        for item in self.report.weak_items:
            checklist_item = self.content.checklist.item(item.no)
            lesson = self.content.lessons.get(item.no)
            blocks.append(self.t("company.weak_item", no=item.no, topic=checklist_item.topic, count=item.count,
                                 not_done=item.not_done, unknown=item.unknown,
                                 countermeasure=checklist_item.countermeasure,
                                 lesson=lesson.title if lesson else checklist_item.topic))
        return "\n\n".join(blocks)

    def learning(self) -> str:
        report = self.report
        rows = "\n".join(self.t("company.theme_row", no=theme.item, topic=self.content.checklist.item(theme.item).topic,
                                passed=len(theme.passed), employees=len(report.employees))
                         for theme in report.themes)
        lines = [self.t("company.learning", rows=rows)]
        holders = [e for e in report.employees if e.certificates]
        if holders:
            lines.append(self.t("company.certificates_heading", count=report.certificates_held) + "\n"
                         + self._names([self.t("company.certificate_row", name=e.name, themes=self._themes(e))
                                        for e in holders]))
        else:
            lines.append(self.t("company.certificates_none"))
        return "\n\n".join(lines)

    def _themes(self, employee: Employee) -> str:
        return self.texts.join(self.t("company.course") if item == COURSE else self.t("company.theme_ref", no=item)
                               for item, _, _ in employee.certificates)

    def _age(self, seconds: float) -> str:
        days = int(seconds // 86400)
        return self.t("company.age_days", days=days) if days else self.t("company.age_hours",
                                                                         hours=int(seconds // 3600))

    def incidents(self) -> str:
        if not self.report.incidents:
            return self.t("company.incidents_none")
        today = self.report.at.date()
        rows = []
        for incident in self.report.incidents:
            playbook = self.content.incidents.playbooks[incident.kind]
            row = self.t("company.incident_row", id=incident.id, name=playbook.name,
                         status=self.t(f"incident.status_{incident.status}"),
                         age=self._age(incident.age.total_seconds()))
            if incident.leak:
                row += "\n" + self.t(
                    f"company.ppc_{incident.leak}", preliminary_by=self.day(incident.preliminary_by),
                    final_by=self.day(incident.final_by),
                    preliminary_left=self._left(incident.preliminary_by, today),
                    final_left=self._left(incident.final_by, today))
            rows.append(row)
        return self.t("company.incidents_heading", count=len(rows)) + "\n" + "\n".join(rows)

    def _left(self, day: date, today: date) -> str:
        days = (day - today).days
        if days < 0:
            return self.t("company.deadline_passed")
        return self.t("company.deadline_today") if days == 0 else self.t("company.deadline_left", days=days)

    def security_action(self) -> str:
        """Which SECURITY ACTION star the company is ready to declare, and what is missing."""
        ready = self.report.security_action
        if ready is None:
            return ""
        status = self.t({2: "company.sa_two", 1: "company.sa_one"}.get(ready.star, "company.sa_none"))
        rows = []
        if not ready.self_check_done:
            rows.append(self.t("company.sa_need_check"))
        elif ready.one_star_gaps and ready.star < 1:
            items = self.texts.join(self.t("company.theme_ref", no=no) for no in ready.one_star_gaps)
            rows.append(self.t("company.sa_one_gaps", items=items))
        if ready.star < 2:
            if not ready.policy_decided:
                rows.append(self.t("company.sa_need_policy"))
            elif not ready.policy_published:
                rows.append(self.t("company.sa_need_publish"))
        missing = self.t("company.sa_missing", rows="\n".join(rows)) if rows else ""
        return self.t("company.security_action", status=status, missing=missing).strip()

    def company_checks(self) -> str:
        report = self.report
        if not report.company_checks:
            return self.t("company.check_none")
        return "\n\n".join(self._company_check(check) for check in report.company_checks)

    def _company_check(self, check: CompanyCheck) -> str:
        scores = self.report.scores
        employees = {category_id: mean for category_id, _, mean, _ in scores.categories}
        categories = "\n".join(
            self.t("company.check_category", name=name, company=points, max=maximum,
                   employees=number(employees[category_id]) if scores.people else "-")
            for category_id, name, points, maximum in check.categories)
        text = self.t("company.check", site=check.site, date=self.day(check.at.date()), by=check.by,
                      total=check.total, employees=number(scores.mean) if scores.people else "-",
                      categories=categories)
        if not scores.people:
            return text + "\n" + self.t("company.check_no_employees")
        if not check.differences:
            return text + "\n" + self.t("company.check_same")
        answers = self.content.checklist.answers
        rows = "\n".join(self.t("company.check_difference", no=d.no, topic=self.content.checklist.item(d.no).topic,
                                answer=answers[d.company_answer].label, company=d.company_points,
                                employees=number(d.employees_points), weak=d.employees_weak)
                         for d in check.differences)
        return text + "\n" + self.t("company.check_differences", rows=rows)

    def who_counts(self) -> str:
        return self.t("company.who")

    def sections(self) -> list[str]:
        """The whole report, one block per section, in reading order."""
        return [self.heading(), self.participation(), self.scores(), self.quarter(), self.weak_items(),
                self.company_checks(), self.security_action(), self.learning(), self.incidents(),
                self.who_counts()]

    # --- a card and a chart ------------------------------------------------------------------

    def card(self) -> Card:
        report = self.report
        employees, done = len(report.employees), len(report.done)
        scores = report.scores
        return Card(
            title=self.t("company.title", name=report.org_name),
            fields=(
                Field(self.t("company.card_done"), self.t("company.value_people", count=done, total=employees),
                      done / employees if employees else 0.0),
                Field(self.t("company.card_median"), self.t("company.value_points", points=number(scores.median))),
                *(Field(name, self.t("company.value_mean", mean=number(mean), max=maximum),
                        max(0.0, mean / maximum) if scores.people else None)
                  for _, name, mean, maximum in scores.categories),
                Field(self.t("company.card_incidents"), self.t("company.value_count", count=len(report.incidents))),
                Field(self.t("company.card_certificates"),
                      self.t("company.value_sheets", count=report.certificates_held)),
            ),
            footer=self.t("company.card_footer", at=self.texts.date_time(report.at)),
        )

    def chart(self) -> Image:
        report = self.report
        employees, done = len(report.employees), len(report.done)
        scores = report.scores
        sections: list[dict[str, Any]] = [{
            "heading": self.t("company.chart_participation"),
            "rows": [[self.t("company.chart_done"), done, max(employees, 1),
                      self.t("company.value_people", count=done, total=employees), 0]],
        }]
        legend = [[0, self.t("company.chart_employees")]]
        rows = []
        checks = report.company_checks[:2]  # the chart shows at most two sites; the text lists all
        for n, check in enumerate(checks, start=1):
            legend.append([n, self.t("company.chart_company", site=check.site)])
        for index, (_, name, mean, maximum) in enumerate(scores.categories):
            rows.append([self.t("company.chart_series", name=name, series=self.t("company.chart_employees")),
                         mean, maximum, self.t("company.value_mean", mean=number(mean), max=maximum), 0])
            for n, check in enumerate(checks, start=1):
                points = check.categories[index][2]
                rows.append([self.t("company.chart_series", name=name, series=check.site), points, maximum,
                             self.t("company.value_mean", mean=points, max=maximum), n])
        sections.append({"heading": self.t("company.chart_categories"), "rows": rows, "legend": legend})
        sections.append({"heading": self.t("company.chart_bands"),
                         "rows": [[label, count, max(scores.people, 1), self.t("company.value_people_only", count=count),
                                   0] for label, count in scores.bands]})  # the employees' colour
        return Image(
            name=f"company-{report.at:%Y%m%d-%H%M}.png",
            alt_text=self.t("company.chart_alt", done=done, employees=employees, median=number(scores.median)),
            renderer=COMPANY_CHART,
            params={"title": self.t("company.title", name=report.org_name), "sections": sections,
                    "caption": self.t("company.card_footer", at=self.texts.date_time(report.at))})


def report_text(report: CompanyReport, content: Content) -> str:
    """The whole report as plain text (what `bot org report` prints)."""
    return "\n\n".join(ReportText(report, content).sections())


CSV_COLUMNS = ("platform", "workspace", "user", "name", "self_checks", "latest_at", "latest_total")


def report_csv(report: CompanyReport, content: Content) -> str:
    """One row per employee: who, their latest self-check (date, total, each category, the items answered
    実施していない / わからない), the lesson themes passed and the certificates held (UTF-8 text; the
    caller adds a BOM for Excel)."""
    categories = [c.id for c in content.checklist.categories]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*CSV_COLUMNS, *categories, "not_done_items", "unknown_items", "lessons_passed",
                     "certificates", "certificate_ids"])
    for e in report.employees:
        latest = e.latest or {}
        answers = latest.get("answers", [])
        writer.writerow([
            e.who.platform, e.who.workspace, e.who.user, e.name, e.checks, latest.get("at", ""),
            latest.get("total", ""),
            *(latest.get("categories", {}).get(c, "") if latest else "" for c in categories),
            " ".join(str(no) for no, a in enumerate(answers, start=1) if a == NOT_DONE),
            " ".join(str(no) for no, a in enumerate(answers, start=1) if a == UNKNOWN),
            " ".join(str(item) for item in e.passed),
            "; ".join(theme for _, theme, _ in e.certificates),
            " ".join(certificate_id for _, _, certificate_id in e.certificates),
        ])
    return out.getvalue()
