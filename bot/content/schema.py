"""JSON schemas of the files under content/ (checked with jsonschema)."""

_TEXT = {"type": "string", "minLength": 1}
_URL = {"type": "string", "pattern": r"^https?://\S+$"}
_PHRASE_LIST = {"type": "array", "items": _TEXT, "minItems": 1}

CHECKLIST = {
    "type": "object",
    "required": ["source", "answers", "categories", "footnotes", "score_bands", "items"],
    "additionalProperties": False,
    "properties": {
        "source": {
            "type": "object",
            "required": ["title", "publisher", "url"],
            "additionalProperties": False,
            "properties": {"title": _TEXT, "publisher": _TEXT, "url": _URL},
        },
        "answers": {
            "type": "array",
            "minItems": 4,
            "maxItems": 4,
            "items": {
                "type": "object",
                "required": ["id", "label", "score"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "pattern": "^[a-z_]+$"},
                    "label": {"type": "string", "minLength": 1, "maxLength": 20},
                    "score": {"type": "integer"},
                },
            },
        },
        "categories": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["id", "name", "first", "last"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "pattern": "^[a-z_]+$"},
                    "name": _TEXT,
                    "first": {"type": "integer", "minimum": 1},
                    "last": {"type": "integer", "minimum": 1},
                },
            },
        },
        "footnotes": {"type": "object", "additionalProperties": _TEXT},
        # How to read the total: bands from the highest, each from its `min` up to the next band's
        # (the last one down to the lowest total). The reading is said with the result.
        "score_bands": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["min", "label", "reading"],
                "additionalProperties": False,
                "properties": {
                    "min": {"type": "integer"},
                    "label": {"type": "string", "minLength": 1, "maxLength": 20},
                    "reading": {"type": "string", "minLength": 10, "maxLength": 200},
                },
            },
        },
        "items": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["no", "topic", "action", "question", "footnotes", "countermeasure", "how_to_check"],
                "additionalProperties": False,
                "properties": {
                    "no": {"type": "integer", "minimum": 1},
                    # Shown on buttons and in lists: keep it short.
                    "topic": {"type": "string", "minLength": 1, "maxLength": 20},
                    # The first concrete step, in one line: the result leads with three of them.
                    "action": {"type": "string", "minLength": 10, "maxLength": 45},
                    "question": {"type": "string", "minLength": 10, "maxLength": 200},
                    "footnotes": {"type": "array", "items": _TEXT},
                    "countermeasure": {"type": "string", "minLength": 40, "maxLength": 400},
                    "how_to_check": {"type": "string", "minLength": 15, "maxLength": 250},
                },
            },
        },
    },
}

SECURITY_ACTION = {
    "type": "object",
    "required": ["url", "one_star", "two_star"],
    "additionalProperties": False,
    "properties": {
        "url": _URL,
        "one_star": {
            "type": "object",
            "required": ["name", "requirement", "items"],
            "additionalProperties": False,
            "properties": {
                "name": _TEXT,
                "requirement": _TEXT,
                "items": {"type": "array", "items": {"type": "integer"}, "minItems": 1},
            },
        },
        "two_star": {
            "type": "object",
            "required": ["name", "requirement", "steps"],
            "additionalProperties": False,
            "properties": {
                "name": _TEXT,
                "requirement": _TEXT,
                "steps": {"type": "array", "items": _TEXT, "minItems": 1},
            },
        },
    },
}

# The 情報セキュリティ基本方針 template (policy_template.yaml); placeholders checked in bot/content/loader.py.
POLICY_TEMPLATE = {
    "type": "object",
    "required": ["title", "preamble", "commitments", "signature"],
    "additionalProperties": False,
    "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": 30},
        "preamble": {"type": "string", "minLength": 20, "maxLength": 400},
        "commitments": {
            "type": "array",
            "minItems": 1,
            # Each is a button to keep or drop it, with 「この内容で進む」 and 「やめる」: a LINE quick reply holds 13.
            "maxItems": 11,
            "items": {
                "type": "object",
                "required": ["id", "label", "heading", "text"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "pattern": "^[a-z_]+$"},
                    "label": {"type": "string", "minLength": 1, "maxLength": 14},
                    "heading": {"type": "string", "minLength": 1, "maxLength": 40},
                    "text": {"type": "string", "minLength": 20, "maxLength": 300},
                },
            },
        },
        "signature": {"type": "array", "items": _TEXT, "minItems": 1, "maxItems": 5},
    },
}

TEXTS = {
    "type": "object",
    "additionalProperties": _TEXT,
}

PHRASES = {
    "type": "object",
    "required": ["commands", "topics", "numbered", "polite_tails", "number_suffixes", "ordinals", "answers",
                 "quit"],
    "additionalProperties": False,
    "properties": {
        "polite_tails": _PHRASE_LIST,
        "number_suffixes": _PHRASE_LIST,
        # What ends the local chat (`bot chat`), besides Ctrl-D.
        "quit": _PHRASE_LIST,
        # The words for the first, the second... choice shown.
        "ordinals": {"type": "array", "minItems": 1, "items": _PHRASE_LIST},
        # What people type for an answer, by what the answer means (a choice marked with that meaning).
        "answers": {
            "type": "object",
            # yes / no / unknown: every question answered so; new_report / change_kind: a new incident typed
            # during another's questions. The self-check's answers and the triage options are checked
            # against checklist.yaml and incidents/triage.yaml (bot/content/loader.py).
            "required": ["yes", "no", "unknown", "new_report", "change_kind"],
            "propertyNames": {"pattern": "^[a-z][a-z0-9_]*$"},
            "additionalProperties": _PHRASE_LIST,
        },
        "numbered": {
            "type": "object",
            "required": ["lesson"],
            "additionalProperties": _PHRASE_LIST,
        },
        "commands": {
            "type": "object",
            "required": ["menu", "cancel", "help", "back", "restart", "progress", "admin", "my_reports",
                         "all_reports", "incident", "trouble", "withdraw", "closing"],
            "additionalProperties": _PHRASE_LIST,
        },
        "topics": {
            "type": "object",
            "required": ["diagnosis", "history", "lesson"],
            "additionalProperties": _PHRASE_LIST,
        },
    },
}

LESSON = {
    "type": "object",
    "required": ["item", "title", "scenario", "points", "quiz"],
    "additionalProperties": False,
    "properties": {
        "item": {"type": "integer", "minimum": 1, "maximum": 25},
        "title": {"type": "string", "minLength": 4, "maxLength": 30},
        "scenario": {"type": "string", "minLength": 80, "maxLength": 600},
        "points": {"type": "array", "minItems": 3, "maxItems": 5,
                   "items": {"type": "string", "minLength": 10, "maxLength": 160}},
        "quiz": {
            "type": "array",
            "minItems": 4,
            "maxItems": 6,
            "items": {
                "type": "object",
                "required": ["question", "choices", "answer", "key_words", "explanation"],
                "additionalProperties": False,
                "properties": {
                    "question": {"type": "string", "minLength": 10, "maxLength": 300},
                    # The words that make the correct answer: each must appear in the lesson (scenario or
                    # points), so the question is answerable from what was read, and in the correct choice
                    # or its explanation, so they are the answer's words (checked in bot/content/lessons.py).
                    "key_words": {"type": "array", "minItems": 1, "maxItems": 4, "uniqueItems": True,
                                  "items": {"type": "string", "minLength": 2, "maxLength": 20}},
                    # Shown as buttons and quick replies: LINE labels hold 20 characters, so
                    # longer choices are listed in the question text and the buttons show numbers.
                    "choices": {"type": "array", "minItems": 3, "maxItems": 4,
                                "items": {"type": "string", "minLength": 1, "maxLength": 80}},
                    "answer": {"type": "integer", "minimum": 0, "maximum": 3},
                    "explanation": {"type": "string", "minLength": 40, "maxLength": 400},
                },
            },
        },
    },
}

# --- incidents ---------------------------------------------------------------------
# The kinds, the triage questions and the severity levels are content (incidents/policy.yaml,
# incidents/triage.yaml), so the schemas that refer to them are built from what was read.
# `None` (that file could not be read) accepts any id: its own problems are reported already.

_ID = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"}


def _one_of(ids: tuple[str, ...] | None) -> dict:
    return _ID if ids is None else {"enum": list(ids)}


def incident_policy_schema(roles: tuple[str, ...]) -> dict:
    """incidents/policy.yaml: the kinds (in the order they are offered), severity levels, roles per level."""
    role_list = {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"enum": list(roles)}}
    return {
        "type": "object",
        "required": ["kinds", "severities", "roles", "notify_confidence", "general"],
        "additionalProperties": False,
        "properties": {
            "kinds": {"type": "array", "minItems": 1, "uniqueItems": True, "items": _ID},
            "severities": {"type": "array", "minItems": 2, "uniqueItems": True, "items": _ID},
            "roles": {"type": "object", "minProperties": 1, "additionalProperties": role_list},
            # The company's people are told of a report at once when the classifier was at least this
            # sure of its kind; otherwise once the reporter confirms the kind or answers a question.
            "notify_confidence": {"type": "number", "minimum": 0, "maximum": 1},
            # When the kind is not clear (「なんか変」, わからない at the kinds): steps safe for any incident,
            # and the contacts for any incident.
            "general": {
                "type": "object",
                "required": ["do", "contacts"],
                "additionalProperties": False,
                "properties": {
                    "do": {"type": "array", "minItems": 2, "maxItems": 6, "items": _STEP},
                    "contacts": {"type": "array", "minItems": 1, "uniqueItems": True, "items": _ID},
                },
            },
        },
    }


# What an answer says about the 個人情報保護委員会 漏えい等報告 (施行規則7条: 要配慮個人情報, 財産的被害の
# おそれ, 不正目的のおそれ, more than 1,000 people), resolved in bot/flows/incidents/escalation.py:
#   required / not_required  the answer to the question that decides it (these win over the others)
#   involved                 personal data is involved: required in a kind presumed malicious (不正目的, the
#                            third trigger), else it has to be checked
#   unsure                   personal data may be involved: it has to be checked
LEAK_REPORT = ("required", "not_required", "involved", "unsure")

# The day types of opening hours, in the order a day is matched: see bot/content/incidents.py.
DAY_TYPES = ("weekdays", "saturdays", "sundays", "holidays")


def triage_schema(severities: tuple[str, ...] | None, roles: tuple[str, ...]) -> dict:
    """incidents/triage.yaml: each question, and what a yes / no / unknown does to the report."""
    level = _one_of(severities)
    effect = {
        "type": "object",
        "minProperties": 1,
        "additionalProperties": False,
        "properties": {
            "severity": {
                "type": "object",
                "minProperties": 1,
                "additionalProperties": False,
                "properties": {
                    "raise": {"type": "integer", "minimum": 1, "maximum": 10},  # levels up, at most the top
                    "at_least": level,  # no lower than this level
                    "set": level,  # exactly this level (the highest such answer wins)
                },
            },
            # Company roles told in addition to those of the severity.
            "roles": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"enum": list(roles)}},
            "leak_report": {"enum": list(LEAK_REPORT)},
            # Contacts this answer adds to any kind's report (whatever the kind lists and its `unless`),
            # shown at once with whether they answer now (money already sent: the bank, the police).
            "contacts": {"type": "array", "minItems": 1, "uniqueItems": True, "items": _ID},
        },
    }
    return {
        "type": "object",
        "minProperties": 1,
        "propertyNames": _ID,
        "additionalProperties": {
            "type": "object",
            "required": ["question"],
            "additionalProperties": False,
            "properties": {
                "question": {"type": "string", "minLength": 10, "maxLength": 200},
                # A question answered by picking one of these (id: the button's label) instead of
                # yes / no / unknown; what each does is on_<id>.
                "options": {"type": "object", "minProperties": 2, "maxProperties": 6, "propertyNames": _ID,
                            "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 20}},
                # The question is worded by each playbook that asks it (its own examples): the
                # wording here is only the common idea.
                "asked_per_kind": {"const": True},
            },
            # on_yes, on_no, on_unknown, or on_<option>: checked against the answers in bot/content/incidents.py
            "patternProperties": {"^on_[a-z][a-z0-9_]*$": effect},
        },
    }


_STEP = {"type": "string", "minLength": 4, "maxLength": 120}
# Triage answers as conditions: "question" (answered yes) or "question=answer".
_CONDITIONS = {"type": "array", "minItems": 1, "uniqueItems": True,
               "items": {"type": "string", "pattern": "^[a-z][a-z0-9_]*(=[a-z][a-z0-9_]*)?$"}}
# The steps of the first message (the first URGENT_STEPS of `do`) must fit a phone screen: the whole
# first message, rendered, at most FIRST_MESSAGE_MAX characters (checked in bot/content/loader.py).
URGENT_STEPS = 3
FIRST_MESSAGE_MAX = 350


def incident_schema(triage_ids: tuple[str, ...] | None, severities: tuple[str, ...] | None) -> dict:
    """incidents/<kind>.yaml: one playbook."""
    return {
        "type": "object",
        "required": ["id", "name", "summary", "severity", "malicious", "do", "dont", "triage", "follow_up",
                     "contacts"],
        "additionalProperties": False,
        "properties": {
            "id": _ID,
            "name": {"type": "string", "minLength": 2, "maxLength": 30},
            "summary": {"type": "string", "minLength": 10, "maxLength": 120},
            "severity": _one_of(severities),
            # A leak in this kind of incident is presumed to be for an unlawful purpose:
            # the final report to the PPC is due in 60 days instead of 30.
            "malicious": {"type": "boolean"},
            # Short steps a person can follow on a phone, right now, most urgent first: the first
            # URGENT_STEPS go out in the first message, the rest and the don'ts one tap away.
            "do": {"type": "array", "minItems": URGENT_STEPS, "maxItems": 7, "items": _STEP},
            "dont": {"type": "array", "minItems": 2, "maxItems": 5, "items": _STEP},
            "triage": {
                "type": "array", "minItems": 2, "maxItems": 6,
                "items": {
                    "type": "object",
                    "required": ["id"],
                    "additionalProperties": False,
                    "properties": {
                        "id": _one_of(triage_ids),
                        # This kind's own wording of the question (required where triage.yaml says
                        # asked_per_kind: examples that fit this kind).
                        "question": {"type": "string", "minLength": 10, "maxLength": 200},
                        # Not asked after one of these answers ("question" answered yes, "question=answer"):
                        # a password is not entered in a mail that was not opened.
                        "unless": _CONDITIONS,
                    },
                    # The advice an answer brings: if_yes, if_unknown (if_no), or if_<option>;
                    # checked against the question's answers in bot/content/incidents.py.
                    "patternProperties": {"^if_[a-z][a-z0-9_]*$": {"type": "string", "minLength": 10,
                                                                   "maxLength": 400}},
                },
            },
            "follow_up": {"type": "array", "minItems": 2, "maxItems": 7,
                          "items": {"type": "string", "minLength": 4, "maxLength": 200}},
            "contacts": {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": "^[a-z0-9_]+$"}},
            # Facts beat labels: once every answer of `when` is given, the report is this other kind (its
            # first steps at once, then its questions not answered yet). Tried in order after each answer.
            "becomes": {
                "type": "array", "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["kind", "when"],
                    "additionalProperties": False,
                    "properties": {"kind": _ID, "when": _CONDITIONS},
                },
            },
        },
    }


_CLOCK = r"([01]\d|2[0-3]):[0-5]\d"
_TIME_RANGE = {"type": "array", "minItems": 2, "maxItems": 2, "prefixItems": [
    {"type": "string", "pattern": f"^{_CLOCK}$"},
    {"type": "string", "pattern": f"^({_CLOCK}|24:00)$"},  # 24:00: to the end of the day
]}
_SOURCE = {"type": "string", "pattern": r"^https?://\S+$"}
_MONTH_DAY = {"type": "string", "pattern": r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"}
_HOURS = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        # Answered at any moment (110, a web site): nothing else may be said.
        "always": {"const": True},
        # Each one has its own hours (your bank, your card company, your mobile carrier), not known
        # here: the reply says so. Nothing else may be said.
        "varies": {"const": True},
        # A form or a mail is taken at any moment; the ranges say when it is read and answered.
        "accepts_any_time": {"const": True},
        # Ranges per day type; a day type left out is closed. A public holiday is a holiday
        # whatever weekday it falls on.
        **{day_type: {"type": "array", "minItems": 1, "items": _TIME_RANGE} for day_type in DAY_TYPES},
        # Closures (ids under `closures`) close every day they cover, whatever the day type.
        "closed": {"type": "array", "uniqueItems": True, "items": _ID},
    },
}


def _routing(kinds: tuple[str, ...] | None) -> dict:
    """When a contact is routed: for these kinds (none: any kind), and, when conditional, when one of
    the `when_yes` answers was given ("question" for a yes, "question=option" for an option) or
    when the 個人情報保護委員会 clock is shown (`when_leak_report`). Checked in bot/content/incidents.py."""
    return {
        # The words a playbook uses when it names this contact (「銀行」「カード会社」): a test checks that
        # a contact a playbook names is routed when the playbook's condition for it holds.
        "named_as": {"type": "array", "minItems": 1, "uniqueItems": True,
                     "items": {"type": "string", "minLength": 2, "maxLength": 30}},
        "for_kinds": {"type": "array", "items": _one_of(kinds)},
        # Answers after which it is not routed (it does not fit the case: a PC that only does not start).
        "unless": {"type": "array", "minItems": 1,
                   "items": {"type": "string", "pattern": "^[a-z][a-z0-9_]*(=[a-z][a-z0-9_]*)?$"}},
        # Kinds for which a conditional contact is routed whatever the answers.
        "always_for": {"type": "array", "items": _one_of(kinds)},
        "when_yes": {"type": "array", "minItems": 1,
                     "items": {"type": "string", "pattern": "^[a-z][a-z0-9_]*(=[a-z][a-z0-9_]*)?$"}},
        "when_leak_report": {"const": True},
    }


def contacts_schema(kinds: tuple[str, ...] | None, triage_ids: tuple[str, ...] | None) -> dict:
    """contacts.yaml: the public contacts, their hours, and when each is routed; and the contacts
    each organisation keeps for itself (its IT vendor, its cyber insurer), routed the same way."""
    return {
        "type": "object",
        "required": ["contacts"],
        "additionalProperties": False,
        "properties": {
            # Contacts an organisation registers for itself (「管理」 or `bot org set-outside`): what
            # they are for, what is said while none is registered, and when they are routed.
            "own_contacts": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "name", "label", "handles", "unset", "named_as"],
                    "additionalProperties": False,
                    "properties": {
                        "id": {"type": "string", "pattern": "^[a-z0-9_]+$"},
                        "name": {"type": "string", "minLength": 2, "maxLength": 60},
                        # Also the label of the 「管理」 button that registers it.
                        "label": {"type": "string", "minLength": 2, "maxLength": 20},
                        "handles": {"type": "string", "minLength": 10, "maxLength": 300},
                        "unset": {"type": "string", "minLength": 10, "maxLength": 200},
                        **_routing(kinds),
                    },
                },
            },
            # Days closed every year, by id: from and to are month-day ("12-29"), inclusive; a closure
            # may run over the new year. The label is said to the user ("closed today: ...").
            "closures": {
                "type": "object",
                "propertyNames": _ID,
                "additionalProperties": {
                    "type": "object",
                    "required": ["from", "to", "label"],
                    "additionalProperties": False,
                    "properties": {"from": _MONTH_DAY, "to": _MONTH_DAY, "label": _TEXT},
                },
            },
            "contacts": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["id", "name", "handles", "hours", "source", "checked", "named_as"],
                    "additionalProperties": False,
                    "properties": {
                        "id": {"type": "string", "pattern": "^[a-z0-9_]+$"},
                        "name": {"type": "string", "minLength": 2, "maxLength": 60},
                        "handles": {"type": "string", "minLength": 10, "maxLength": 300},
                        "not_for": {"type": "string", "maxLength": 300},
                        "phone": {"type": "string", "pattern": r"^[0-9#*+-]{3,20}$"},
                        "email": {"type": "string", "pattern": r"^[^@\s]+@[^@\s]+\.[a-z]+$"},
                        "url": {"type": "string", "pattern": r"^https://\S+$"},
                        # How to reach a contact that has no single number (e.g. "your bank").
                        "reach": {"type": "string", "minLength": 5, "maxLength": 200},
                        "hours": _HOURS,
                        "when_closed": {"type": "string", "minLength": 10, "maxLength": 300},
                        # Said with the contact in every reply: keep it to one or two short sentences.
                        "note": {"type": "string", "minLength": 10, "maxLength": 150},
                        # Routing: who should be told about this contact
                        **_routing(kinds),
                        "emergency": {"type": "boolean"},
                        # Where the facts above were checked, and when (YYYY-MM-DD); more_sources for
                        # the facts that come from other pages. Say in a YAML comment what could not be
                        # confirmed.
                        "source": _SOURCE,
                        "more_sources": {"type": "array", "minItems": 1, "items": _SOURCE},
                        "checked": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
                    },
                },
            },
        },
    }
