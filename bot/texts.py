"""The reply texts the code uses, with the placeholders each may contain.

`bot content check` compares content/texts.yaml against this list: a missing
text, an unused one or an unknown placeholder is reported with its key.
"""

_NONE: frozenset[str] = frozenset()


def _p(*names: str) -> frozenset[str]:
    return frozenset(names)


REQUIRED_TEXTS: dict[str, frozenset[str]] = {
    "menu.welcome": _NONE,
    "menu.prompt": _NONE,
    "menu.help": _NONE,
    "menu.cancelled": _NONE,
    "menu.not_understood": _NONE,
    "menu.stale_choice": _NONE,
    "help.body": _NONE,
    "diagnosis.menu_start": _NONE,
    "diagnosis.menu_resume": _p("answered", "total"),
    "diagnosis.menu_history": _NONE,
    "diagnosis.intro": _p("total"),
    "diagnosis.resumed": _p("no", "answered", "total"),
    "diagnosis.restarted": _p("total"),
    "diagnosis.question": _p("no", "question"),
    "diagnosis.current_answer": _p("label"),
    "diagnosis.hint": _NONE,
    "diagnosis.first_question": _NONE,
    "diagnosis.answer_changed": _p("no", "label"),
    "diagnosis.paused": _p("answered", "total"),
    "diagnosis.share": _NONE,
    "diagnosis.shared": _p("to"),
    "diagnosis.share_unavailable": _NONE,
    "diagnosis.shared_notice": _p("name"),
    "diagnosis.shared_prompt": _NONE,
    "result.title": _NONE,
    "result.total_label": _NONE,
    "result.points": _p("score", "max"),
    "result.first_time": _NONE,
    "result.change": _p("diff", "date"),
    "result.footer": _p("date"),
    "result.chart_alt": _p("total"),
    "result.all_done": _NONE,
    "result.weak_heading": _NONE,
    "result.weak_item": _p("no", "topic", "answer", "countermeasure"),
    "result.weak_more": _p("count", "items"),
    "result.unknown_heading": _p("count"),
    "result.unknown_item": _p("no", "topic", "how_to_check"),
    "result.one_star_ready": _NONE,
    "result.one_star_todo": _p("items"),
    "result.security_action": _p(
        "one_star_name", "one_star_requirement", "one_star_status",
        "two_star_name", "two_star_requirement", "two_star_steps", "url"),
    "result.next_prompt": _p("total"),
    "result.again": _NONE,
    "result.menu": _NONE,
    "home.no_result": _NONE,
    "home.title": _NONE,
    "error.delivery_failed": _NONE,
    "history.title": _NONE,
    "history.row": _p("date", "time", "total", "change"),
    "history.change": _p("diff"),
    "history.empty": _NONE,
    "history.prompt": _NONE,
    "error.store_unavailable": _NONE,
    "error.busy": _NONE,
    "error.unexpected": _NONE,
}
