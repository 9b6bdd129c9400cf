"""Recognising what someone typed: an incident kind, or another part of the bot.

Built once at start-up from content/intents.yaml:
- text is folded first (width, case, hiragana -> katakana, spelling variants such
  as ウィルス/ウイルス or PC/パソコン), so 「ふぁいる」「ファイル」「ﾌｧｲﾙ」 are one word;
- a naive Bayes model over character 1–3-grams, trained on the example
  utterances, tolerates typos and unseen wording;
- weighted cue phrases (「暗号化」「振込先」「誤送信」) add what one word can tell.
The two are summed per intent and turned into probabilities; the confidence is
the top probability.
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from bot.content.intents import IntentSpec

_DROP = re.compile(r"[\s　、。，．,!！?？「」『』（）()【】・…〜~♪★☆\"'`]+")
_HIRAGANA = {code: code + 0x60 for code in range(0x3041, 0x3097)}
NGRAM_SIZES = (1, 2, 3)
SMOOTHING = 0.1
NB_WEIGHT = 6.0  # scale of the per-character log-likelihood against cue weights
# An intent none of whose cue phrases appear needs much more from the n-gram model to win:
# without any cue, a message is more likely small talk than an incident.
NO_CUE_PENALTY = 4.0
FALLBACK = "unknown"
# Scores are divided by this before the softmax, so a narrow lead reads as a modest
# confidence (and the bot asks which kind) instead of a near-certain one.
TEMPERATURE = 2.0


def fold(text: str) -> str:
    """Width, case and kana folded; spaces and punctuation dropped; emoji kept out."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("So"))
    return _DROP.sub("", text.translate(_HIRAGANA))


@dataclass(frozen=True)
class Prediction:
    intent: str
    confidence: float
    ranked: tuple[tuple[str, float], ...]  # every intent with its probability, best first


class IntentClassifier:
    def __init__(self, spec: IntentSpec):
        self.intents = tuple(spec.intents)
        # One pass over the text, longest spelling first; a canonical form maps to itself, so
        # 「ランサム」 (a variant) never rewrites the inside of 「ランサムウェア」.
        self._canonical_of = {fold(canonical): fold(canonical) for canonical in spec.variants}
        for canonical, variants in spec.variants.items():
            for variant in variants:
                self._canonical_of.setdefault(fold(variant), fold(canonical))
        spellings = sorted((s for s in self._canonical_of if s), key=len, reverse=True)
        self._spelling = re.compile("|".join(map(re.escape, spellings)))
        self._cues = {intent: [(self.canonical(p), w) for p, w in cues.items()] for intent, cues in spec.cues.items()}
        self._counts: dict[str, Counter] = {intent: Counter() for intent in self.intents}
        for intent, examples in spec.examples.items():
            for example in examples:
                self._counts[intent].update(self._grams(self.canonical(example)))
        vocabulary = set().union(*self._counts.values())
        self._vocabulary_size = len(vocabulary) + 1
        self._totals = {intent: sum(c.values()) for intent, c in self._counts.items()}

    def canonical(self, text: str) -> str:
        return self._spelling.sub(lambda m: self._canonical_of[m.group(0)], fold(text))

    @staticmethod
    def _grams(text: str) -> list[str]:
        return [text[i:i + n] for n in NGRAM_SIZES for i in range(len(text) - n + 1)]

    def _log_likelihood(self, intent: str, grams: list[str]) -> float:
        counts, total = self._counts[intent], self._totals[intent]
        denominator = math.log(total + SMOOTHING * self._vocabulary_size)
        return sum(math.log(counts[g] + SMOOTHING) - denominator for g in grams) / max(len(grams), 1)

    def scores(self, text: str) -> dict[str, float]:
        canonical = self.canonical(text)
        grams = self._grams(canonical)
        scores = {}
        for intent in self.intents:
            matched = [weight for phrase, weight in self._cues.get(intent, ()) if phrase and phrase in canonical]
            penalty = NO_CUE_PENALTY if intent != FALLBACK and not any(w > 0 for w in matched) else 0.0
            scores[intent] = NB_WEIGHT * self._log_likelihood(intent, grams) + sum(matched) - penalty
        return scores

    def classify(self, text: str) -> Prediction:
        if not fold(text):
            return Prediction("unknown", 1.0, (("unknown", 1.0),))
        scores = self.scores(text)
        top = max(scores.values())
        weights = {intent: math.exp((score - top) / TEMPERATURE) for intent, score in scores.items()}
        total = sum(weights.values())
        ranked = tuple(sorted(((i, w / total) for i, w in weights.items()), key=lambda p: -p[1]))
        return Prediction(ranked[0][0], ranked[0][1], ranked)
