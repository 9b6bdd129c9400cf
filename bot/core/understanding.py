"""Reading typed text, once per message, in one place.

`Reader` turns a message into one `Understanding`: every reading the router needs, all from the
same folded text (`bot.core.classifier.fold`: width, case, hiragana/katakana, spaces, punctuation
and emoji folded away, the normaliser the classifier uses too). The router maps it to a trigger.

A message is read as:
- one of the choices shown last (`choice`): by its number (「3」「３番」「3です」), by its
  label or the start of it (three characters at least), by a word content/phrases.yaml accepts
  for what the choice means (`answers`: はい, やってない, わからないです… for a choice marked
  `means`), by its place (「ふたつめ」), or by a part of exactly one label;
- a number that picks none of them (`number`: out of range, or nothing offered);
- a numbered command (「学習 3」), a whole-message command, a whole-message topic word, a topic
  phrase inside the message;
- the classifier's intents with their probabilities (`prediction`);
- `stray`: too little to be a report (numbers, single characters, short tokens such as 「ok」
  「はい」, emoji), never an incident and never a note.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from bot.content.loader import Phrases
from bot.core.classifier import IntentClassifier, Prediction, fold, stray

_NUMBER = re.compile(r"^(\d+)(.*)$")
_TRAILING_NUMBER = re.compile(r"^(.*?)(?:no\.?)?(\d{1,3})$")
_KEYCAP = "\ufe0f\u20e3"  # 1️⃣: a digit, a variation selector and the enclosing keycap
MIN_PREFIX = 3  # characters of a label typed from its start that pick it (「ランサム」), not fewer (「は」)
MIN_PART = 3  # characters of a label typed from its middle that pick it, when no other label has them


@dataclass(frozen=True)
class Understanding:
    """What one typed message says, every way the router may need it."""

    text: str
    folded: str
    choice: str | None = None  # the value of the offered choice it picks
    number: int | None = None  # a number alone that picks no offered choice
    numbered: tuple[str, int] | None = None  # ("lesson", 3) for 「学習 3」
    command: str | None = None  # a whole-message command (phrases.yaml commands)
    topic_word: str | None = None  # the whole message is a topic's phrase (「履歴」)
    topic: str | None = None  # the first topic with a phrase inside the message
    prediction: Prediction | None = None
    stray: bool = False

    @property
    def intent(self) -> str:
        return self.prediction.intent if self.prediction else ""


def _folded_table(table: dict[str, tuple[str, ...]]) -> dict[str, frozenset[str]]:
    return {key: frozenset(filter(None, (fold(w) for w in words))) for key, words in table.items()}


class Reader:
    """Built once (with the content's phrases and the classifier); called once per typed message."""

    def __init__(self, phrases: Phrases, classifier: IntentClassifier | None = None):
        self._classifier = classifier
        self._commands = _folded_table(phrases.commands)
        self._topics = [(key, tuple(filter(None, (fold(w) for w in words)))) for key, words in phrases.topics.items()]
        self._topic_words = _folded_table(phrases.topics)
        self._numbered = _folded_table(phrases.numbered)
        self._accepted = _folded_table(phrases.accepted)
        self._ordinals = [frozenset(fold(w) for w in words) for words in phrases.ordinals]
        self._tails = sorted((fold(t) for t in phrases.polite_tails if fold(t)), key=len, reverse=True)
        self._suffixes = frozenset(fold(s) for s in phrases.number_suffixes)

    def __call__(self, text: str, offered: list[list[str]] | None = None) -> Understanding:
        folded = fold(text)
        forms = self._forms(folded)
        number = self._number(folded)
        choice = self._choice(folded, forms, number, offered or [])
        if choice is not None:
            return Understanding(text, folded, choice=choice, stray=stray(folded))
        return Understanding(
            text, folded, number=number, numbered=self._numbered_command(folded),
            command=self._whole(forms, self._commands), topic_word=self._whole(forms, self._topic_words),
            topic=self._topic_inside(folded),
            prediction=self._classifier.classify(text) if self._classifier else None,
            stray=number is not None or stray(folded))

    # --- pieces -----------------------------------------------------------------------------

    def _forms(self, folded: str) -> set[str]:
        """The folded text, and without a polite tail (「わからないです」 -> 「わからない」)."""
        forms = {folded}
        for tail in self._tails:
            if folded.endswith(tail) and len(folded) > len(tail):
                forms.add(folded[: -len(tail)])
                break
        return forms

    def _number(self, folded: str) -> int | None:
        """3 for 「3」「３番」「3.」「3です」「1️⃣」: a number alone, or with one of the suffixes after it."""
        found = _NUMBER.match(folded)
        if not found:
            return None
        rest = found.group(2).strip(_KEYCAP)
        for tail in self._tails:  # 「3です」「3番です」
            if rest.endswith(tail):
                rest = rest[: -len(tail)]
                break
        return int(found.group(1)) if not rest or rest in self._suffixes else None

    def _choice(self, folded: str, forms: set[str], number: int | None, offered: list[list[str]]) -> str | None:
        if not offered or not folded:
            return None
        if number is not None:
            return offered[number - 1][1] if 1 <= number <= len(offered) else None
        labels = [(fold(option[0]), option[1]) for option in offered]
        exact = {value for label, value in labels if label in forms}
        if len(exact) == 1:
            return exact.pop()
        if len(folded) >= MIN_PREFIX:
            starting = {value for label, value in labels if label.startswith(folded)}
            if len(starting) == 1:
                return starting.pop()
        meant = {option[1] for option in offered
                 if len(option) > 2 and forms & self._accepted.get(option[2], frozenset())}
        if len(meant) == 1:
            return meant.pop()
        if meant:
            return None  # a word two choices on the screen accept: neither
        for place, words in enumerate(self._ordinals):
            if forms & words:
                return offered[place][1] if place < len(offered) else None
        if len(folded) >= MIN_PART:
            inside = {value for label, value in labels if folded in label}
            if len(inside) == 1:
                return inside.pop()
        return None

    @staticmethod
    def _whole(forms: set[str], table: dict[str, frozenset[str]]) -> str | None:
        """The key of `table` one of whose phrases is the whole message (a polite tail aside)."""
        return next((key for key, words in table.items() if forms & words), None)

    def _topic_inside(self, folded: str) -> str | None:
        """The first topic (in content order) with a phrase inside the text."""
        return next((topic for topic, words in self._topics if any(w in folded for w in words)), None)

    def _numbered_command(self, folded: str) -> tuple[str, int] | None:
        """("lesson", 3) for 「学習 3」「レッスン３」「学習No.3」: a numbered command word and its number."""
        found = _TRAILING_NUMBER.match(folded)
        if not found or not found.group(1):
            return None
        word = found.group(1)
        for name, words in self._numbered.items():
            if word in words:
                return name, int(found.group(2))
        return None
