"""Reading content files: one YAML reader and one schema check, used by every part of content/.

Each file is read and parsed once; problems (missing file, broken YAML, schema errors)
are appended to a list with the file and the field, so one pass reports them all.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import yaml

from bot.content.problems import ContentProblem, field_path

# libyaml's parser when PyYAML was built with it (about ten times faster), else the pure-Python one.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Schema = dict | jsonschema.protocols.Validator


def read_yaml(path: Path, name: str, problems: list[ContentProblem]) -> Any:
    """The parsed file; None, with the problem appended, when it is missing or not YAML."""
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 (a safe loader)
    except FileNotFoundError:
        problems.append(ContentProblem(name, "", "file is missing"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        problems.append(ContentProblem(name, "", f"not valid YAML: {exc}"))
    return None


def validator(file_schema: dict) -> jsonschema.protocols.Validator:
    return jsonschema.Draft202012Validator(file_schema)


def schema_problems(name: str, data: Any, file_schema: Schema) -> list[ContentProblem]:
    """Every place where data does not follow the schema, by field."""
    checker = validator(file_schema) if isinstance(file_schema, dict) else file_schema
    errors = sorted(checker.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    return [ContentProblem(name, field_path(e.absolute_path), e.message) for e in errors]


def read_valid(path: Path, name: str, file_schema: Schema, problems: list[ContentProblem]) -> Any:
    """The parsed file when it parses and follows the schema; else None, with every problem appended."""
    found: list[ContentProblem] = []
    data = read_yaml(path, name, found)
    if not found:
        found = schema_problems(name, data, file_schema)
    problems.extend(found)
    return None if found else data
