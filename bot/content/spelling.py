"""content/spelling.yaml: one way to write each word, checked over every text a user reads.

The file maps the spelling to use to the spellings not to use (公用文 style: a katakana word
ending in -er, -or or -ar is written with the long vowel: ブラウザー, not ブラウザ). A spelling
not to use is reported where it occurs, unless the text there is the spelling to use (ブラウザ
inside ブラウザー is fine) or one of the `keep` phrases (a proper name written otherwise).

What is checked: every string in the files a user reads (texts, lessons, playbooks, triage
questions, contacts, the checklist's own explanations, SECURITY ACTION). Not checked: the 25
checklist questions and their footnotes (IPA's wording, kept verbatim), what users type
(phrases.yaml, intents.yaml, intent_examples.yaml) and YAML comments.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from bot.content.problems import ContentProblem, field_path
from bot.content.reader import read_valid

FILE = "spelling.yaml"

_WORD = {"type": "string", "minLength": 1, "maxLength": 40}
SCHEMA = {
    "type": "object",
    "required": ["use"],
    "additionalProperties": False,
    "properties": {
        # the spelling to use -> the spellings not to use
        "use": {"type": "object", "minProperties": 1,
                "additionalProperties": {"type": "array", "minItems": 1, "uniqueItems": True, "items": _WORD}},
        # phrases in which a spelling not to use is kept (a proper name, a quoted title)
        "keep": {"type": "array", "uniqueItems": True, "items": _WORD},
    },
}


@dataclass(frozen=True)
class Spelling:
    use: dict[str, tuple[str, ...]]  # the spelling to use -> the spellings not to use
    keep: tuple[str, ...] = ()

    def mistakes(self, text: str) -> list[tuple[str, str]]:
        """(found, use instead) for every spelling not to use in the text, in order."""
        found = []
        for right, wrong_ones in self.use.items():
            for wrong in wrong_ones:
                position = text.find(wrong)
                while position != -1:
                    if not text.startswith(right, position) and not any(
                            self._kept(text, position, phrase, wrong) for phrase in self.keep):
                        found.append((position, wrong, right))
                    position = text.find(wrong, position + 1)
        return [(wrong, right) for _, wrong, right in sorted(found)]

    @staticmethod
    def _kept(text: str, position: int, phrase: str, wrong: str) -> bool:
        """Whether the occurrence at `position` lies inside an occurrence of `phrase`."""
        start = phrase.find(wrong)
        while start != -1:
            if text.startswith(phrase, position - start):
                return True
            start = phrase.find(wrong, start + 1)
        return False

    def problems(self, name: str, data: Any, *, skip: Iterable[str] = ()) -> list[ContentProblem]:
        """Every spelling not to use in the strings of a parsed file, by field. `skip`: field paths
        (items[*].question: any index) left unchecked."""
        skipped = tuple(skip)
        found = []
        for path, text in _strings(data, ()):
            where = field_path(path)
            if any(_matches(where, pattern) for pattern in skipped):
                continue
            for wrong, right in dict.fromkeys(self.mistakes(text)):
                found.append(ContentProblem(name, where, f"writes {wrong!r}: write {right!r} ({FILE})"))
        return found


def _strings(data: Any, path: tuple) -> Iterator[tuple[tuple, str]]:
    if isinstance(data, str):
        yield path, data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from _strings(value, (*path, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _strings(value, (*path, i))


def _matches(where: str, pattern: str) -> bool:
    """items[3].question against items[*].question; a pattern also covers the fields below it."""
    parts, wanted = where.replace("[", ".[").split("."), pattern.replace("[", ".[").split(".")
    if len(parts) < len(wanted):
        return False
    return all(w == p or (w == "[*]" and p.startswith("[")) for w, p in zip(wanted, parts))


def read_spelling(content_dir: Path, problems: list[ContentProblem]) -> Spelling | None:
    data = read_valid(content_dir / FILE, FILE, SCHEMA, problems)
    if data is None:
        return None
    found = []
    rights = set(data["use"])
    for right, wrong_ones in data["use"].items():
        for i, wrong in enumerate(wrong_ones):
            if wrong == right or wrong in rights:
                found.append(ContentProblem(FILE, f"use.{right}[{i}]", f"{wrong!r} is also a spelling to use"))
    for i, phrase in enumerate(data.get("keep", ())):
        if not any(wrong in phrase for wrong_ones in data["use"].values() for wrong in wrong_ones):
            found.append(ContentProblem(FILE, f"keep[{i}]", "holds none of the spellings not to use"))
    problems.extend(found)
    if found:
        return None
    return Spelling(use={right: tuple(wrong) for right, wrong in data["use"].items()},
                    keep=tuple(data.get("keep", ())))
