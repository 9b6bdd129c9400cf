"""content/intents.yaml: what the classifier learns from (example utterances, spelling variants).

The intents are the incident kinds (from incidents/policy.yaml, one per playbook) followed by
the other things a message can ask for.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.content.incidents import POLICY_FILE, policy_kinds, read_policy
from bot.content.problems import ContentError, ContentProblem
from bot.content.reader import read_valid

FILE = "intents.yaml"
EXAMPLES_FILE = "intent_examples.yaml"  # more example utterances, merged into FILE's
# closing: thanks / okay / bye (the conversation is over); vague: trouble without a kind (「なんか変」「助けて」).
# unknown is last: what nothing else fits, small talk, stray numbers and single characters.
OTHER_INTENTS = ("diagnosis", "lesson", "help", "closing", "vague", "unknown")

_PHRASES = {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1, "maxLength": 200}}
_ANY_INTENT = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"}


def intents_schema(intents: tuple[str, ...] | None) -> dict:
    """intents.yaml for these intents (None: the kinds are not known, any intent name is accepted)."""
    names = OTHER_INTENTS if intents is None else intents
    return {
        "type": "object",
        "required": ["examples", "variants"],
        "additionalProperties": False,
        "properties": {
            "examples": {"type": "object", "required": list(names),
                         "properties": {i: {**_PHRASES, "minItems": 5} for i in names},
                         **({"propertyNames": _ANY_INTENT} if intents is None else {"additionalProperties": False})},
            "variants": {"type": "object", "additionalProperties": _PHRASES},
        },
    }


def examples_schema(intents: tuple[str, ...] | None) -> dict:
    if intents is None:
        return {"type": "object", "propertyNames": _ANY_INTENT, "additionalProperties": _PHRASES}
    return {"type": "object", "additionalProperties": False, "properties": {i: _PHRASES for i in intents}}


@dataclass(frozen=True)
class IntentSpec:
    intents: tuple[str, ...]  # the incident kinds first, then OTHER_INTENTS
    examples: dict[str, tuple[str, ...]]
    variants: dict[str, tuple[str, ...]]
    incident_kinds: tuple[str, ...] = ()  # the intents that are incident kinds (one playbook each)


def read_intents(content_dir: Path, incident_kinds: tuple[str, ...] | None,
                 problems: list[ContentProblem]) -> IntentSpec | None:
    """Both intent files for these incident kinds; None (with the problems appended) when anything is wrong.

    `incident_kinds` None: the kinds could not be read; the files are still checked as far as possible.
    """
    before = len(problems)
    if incident_kinds is not None:
        for i, kind in enumerate(incident_kinds):
            if kind in OTHER_INTENTS:
                problems.append(ContentProblem(POLICY_FILE, f"kinds[{i}]",
                                               f"{kind!r} is already an intent of its own: {list(OTHER_INTENTS)}"))
    intents = None if incident_kinds is None else tuple(incident_kinds) + OTHER_INTENTS
    data: Any = read_valid(content_dir / FILE, FILE, intents_schema(intents), problems)
    more: Any = read_valid(content_dir / EXAMPLES_FILE, EXAMPLES_FILE, examples_schema(intents), problems)
    if intents is None or len(problems) > before:
        return None
    return IntentSpec(
        intents=intents,
        examples={i: tuple(data["examples"][i]) + tuple(more.get(i, ())) for i in intents},
        variants={k: tuple(v) for k, v in data["variants"].items()},
        incident_kinds=tuple(incident_kinds),
    )


def load_intents(content_dir: Path) -> IntentSpec:
    """Only what the classifier needs (the kinds and both intent files); raise ContentError listing
    every problem in those files."""
    problems: list[ContentProblem] = []
    spec = read_intents(content_dir, policy_kinds(read_policy(content_dir, problems)), problems)
    if spec is None:
        raise ContentError(problems)
    return spec
