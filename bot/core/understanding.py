"""Turning typed text into something the flows act on.

Typed text is tried, in order, as: one of the choices shown last (by number or
by label), a whole-message command (メニュー, やめる, 戻る...), then a topic
phrase inside the message (「診断したい」 -> diagnosis).
"""
from __future__ import annotations

import re
import unicodedata

from bot.content.loader import Phrases

_NUMBER = re.compile(r"^(\d{1,3})(.*)$")
_NOISE = re.compile(r"[\s　。、．，,.!！?？「」『』()（）・〜~-]+")


def normalize(text: str) -> str:
    """Fold width and case, drop spaces and punctuation: 'ＰＣ　１ ' -> 'pc1'."""
    folded = unicodedata.normalize("NFKC", text).lower().strip()
    return _NOISE.sub("", folded)


def _choice_number(plain: str, phrases: Phrases) -> int | None:
    """3 for 「3」「3番」「3.」: a number alone, or with one of the phrases' suffixes after it."""
    number = _NUMBER.match(plain)
    if not number:
        return None
    rest = number.group(2).strip()
    if rest and rest not in phrases.number_suffixes:
        return None
    return int(number.group(1))


def pick_offered(text: str, offered: list[list[str]], phrases: Phrases) -> str | None:
    """The value of the offered choice that `text` names by number or label, if exactly one."""
    if not offered:
        return None
    plain = unicodedata.normalize("NFKC", text).strip()
    number = _choice_number(plain, phrases)
    if number is not None:
        index = number - 1
        return offered[index][1] if 0 <= index < len(offered) else None
    wanted = normalize(text)
    if not wanted:
        return None
    labels = [(normalize(label), value) for label, value in offered]
    exact = [value for label, value in labels if label == wanted]
    if len(exact) == 1:
        return exact[0]
    prefixed = [value for label, value in labels if label.startswith(wanted)]
    return prefixed[0] if len(prefixed) == 1 else None


def _strip_polite_tail(text: str, phrases: Phrases) -> str:
    for tail in phrases.polite_tails:
        if text.endswith(tail) and len(text) > len(tail):
            return text[: -len(tail)]
    return text


def _whole_message(text: str, table: dict[str, tuple[str, ...]], phrases: Phrases) -> str | None:
    """The key of `table` one of whose phrases is the whole message (a polite tail aside)."""
    wanted = normalize(text)
    candidates = {wanted, _strip_polite_tail(wanted, phrases)}
    for key, words in table.items():
        if any(normalize(w) in candidates for w in words):
            return key
    return None


def match_command(text: str, phrases: Phrases) -> str | None:
    """A whole-message command name (menu, cancel, help, back, restart...), if the text is one."""
    return _whole_message(text, phrases.commands, phrases)


def match_topic_word(text: str, phrases: Phrases) -> str | None:
    """The topic when the whole message is one of its phrases (「履歴」「クイズ」)."""
    return _whole_message(text, phrases.topics, phrases)


def match_topic(text: str, phrases: Phrases) -> str | None:
    """The first topic (in content order) with a phrase inside the text."""
    wanted = normalize(text)
    for topic, words in phrases.topics.items():
        if any(normalize(w) in wanted for w in words):
            return topic
    return None


_TRAILING_NUMBER = re.compile(r"^(.*?)(?:no)?(\d{1,3})$")


def match_numbered(text: str, phrases: Phrases) -> tuple[str, int] | None:
    """("lesson", 3) for 「学習 3」「レッスン３」「学習No.3」: a numbered command word and its number."""
    found = _TRAILING_NUMBER.match(normalize(text))
    if not found:
        return None
    word = found.group(1)
    for name, words in phrases.numbered.items():
        if any(normalize(w) == word for w in words):
            return name, int(found.group(2))
    return None
