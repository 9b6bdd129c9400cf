"""content/intents.yaml: what the classifier knows (examples, cue phrases, spelling variants)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jsonschema
import yaml

from bot.content.problems import ContentProblem, field_path
from bot.content.schema import INCIDENT_KINDS

FILE = "intents.yaml"
EXAMPLES_FILE = "intent_examples.yaml"  # more example utterances, merged into FILE's
OTHER_INTENTS = ("diagnosis", "lesson", "help", "unknown")
ALL_INTENTS = INCIDENT_KINDS + OTHER_INTENTS

_PHRASES = {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1, "maxLength": 200}}
SCHEMA = {
    "type": "object",
    "required": ["examples", "cues", "variants"],
    "additionalProperties": False,
    "properties": {
        "examples": {"type": "object", "required": list(ALL_INTENTS), "additionalProperties": False,
                     "properties": {i: {**_PHRASES, "minItems": 5} for i in ALL_INTENTS}},
        "cues": {"type": "object", "additionalProperties": False,
                 "properties": {i: {"type": "object", "additionalProperties": {"type": "number", "minimum": -10,
                                                                              "maximum": 10}}
                                for i in ALL_INTENTS}},
        "variants": {"type": "object", "additionalProperties": _PHRASES},
    },
}


@dataclass(frozen=True)
class IntentSpec:
    intents: tuple[str, ...]
    examples: dict[str, tuple[str, ...]]
    cues: dict[str, dict[str, float]]
    variants: dict[str, tuple[str, ...]]


EXAMPLES_SCHEMA = {"type": "object", "additionalProperties": False,
                   "properties": {i: _PHRASES for i in ALL_INTENTS}}


def _problems(content_dir: Path, name: str, file_schema: dict) -> list[ContentProblem]:
    try:
        data = yaml.safe_load((content_dir / name).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [ContentProblem(name, "", "file is missing")]
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        return [ContentProblem(name, "", f"not valid YAML: {exc}")]
    errors = jsonschema.Draft202012Validator(file_schema).iter_errors(data)
    return [ContentProblem(name, field_path(e.absolute_path), e.message)
            for e in sorted(errors, key=lambda e: list(map(str, e.absolute_path)))]


def check_intents(content_dir: Path) -> list[ContentProblem]:
    return _problems(content_dir, FILE, SCHEMA) + _problems(content_dir, EXAMPLES_FILE, EXAMPLES_SCHEMA)


def load_intents(content_dir: Path) -> IntentSpec:
    data = yaml.safe_load((content_dir / FILE).read_text(encoding="utf-8"))
    more = yaml.safe_load((content_dir / EXAMPLES_FILE).read_text(encoding="utf-8"))
    return IntentSpec(
        intents=ALL_INTENTS,
        examples={i: tuple(data["examples"][i]) + tuple(more.get(i, ())) for i in ALL_INTENTS},
        cues={i: dict(data["cues"].get(i, {})) for i in ALL_INTENTS},
        variants={k: tuple(v) for k, v in data["variants"].items()},
    )
