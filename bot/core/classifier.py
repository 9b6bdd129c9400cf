"""Recognising what someone typed: an incident kind, or another part of the bot.

The model is learnt from content/intents.yaml and content/intent_examples.yaml:
- text is folded first (width, case, hiragana -> katakana, spelling variants such
  as ウィルス/ウイルス or PC/パソコン), so 「ふぁいる」「ファイル」「ﾌｧｲﾙ」 are one word;
- a message is the TF-IDF vector of its character 1–3-grams (its start and end marked),
  so typos, dialect and unseen wording still share most of their n-grams with the examples;
- a multinomial logistic regression (softmax, L2-regularised, fitted with L-BFGS in numpy)
  gives a probability for every intent; the confidence is the top one;
- the probabilities are calibrated for what the confidence is used for (a report opens at 0.6, the
  company is told at 0.8): a temperature divides the scores, fitted on out-of-fold predictions (the
  examples in FOLDS folds, each predicted by a model trained on the others) as the lowest with which
  at most CONFIDENT_WRONG of those predictions are wrong at CONFIDENT or above. The temperature that
  fits those predictions best by likelihood is lower than 1 (in-distribution, the model is
  underconfident), but new phrasing is not in-distribution: on a blind set it made three times as
  many confident mistakes. The target is half of what is allowed on new phrasing (1 %), a margin for
  phrasing the examples do not cover.
- Stray input is never an incident (see `stray`): a message without letters (numbers, emoji,
  punctuation) is `unknown`; in one that is too short, what the model gave the incident kinds
  goes to `unknown`.

The model trained on the shipped content ships with the package (intent_model.npz, written by
`python -m bot.core.classifier`; tests/test_classifier.py checks it is up to date), so start-up
only loads it. Other content (a new kind, edited examples, BOT_CONTENT_DIR) is trained at
start-up instead, a few seconds, once per process. Nothing is downloaded.
benchmarks/classifier.py compares this model with the alternatives.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import sys
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.content.intents import IntentSpec

log = logging.getLogger(__name__)

_DROP = re.compile(r"[\s　、。，．,!！?？「」『』（）()【】・…〜~♪★☆\"'`]+")
_HIRAGANA = {code: code + 0x60 for code in range(0x3041, 0x3097)}
NGRAM_SIZES = (1, 2, 3)
START, END = "\x02", "\x03"  # marks around a message: its first and last n-grams are features of their own
MIN_DOCUMENTS = 2  # an n-gram is a feature when at least this many examples have it
REGULARISATION = 0.1  # L2 penalty on the weights (1 / C)
MAX_ITERATIONS = 100  # L-BFGS steps at most...
TOLERANCE = 1e-5  # ...stopping when a step improves the loss by less than this fraction
HISTORY = 8  # L-BFGS memory
FALLBACK = "unknown"
FOLDS = 5  # out-of-fold predictions for the temperature
CONFIDENT = 0.6  # the confidence at which a report opens at once (bot/flows/incidents/flow.py)...
CONFIDENT_WRONG = 0.005  # ...and the share of out-of-fold predictions allowed to reach it and be wrong
TEMPERATURES = np.round(np.arange(0.5, 3.001, 0.01), 2)  # tried from the lowest
MODEL_VERSION = 2  # part of the content digest: bump when features or fitting change
SHIPPED_MODEL = Path(__file__).with_name("intent_model.npz")


def fold(text: str) -> str:
    """Width, case and kana folded; spaces and punctuation dropped; emoji kept out."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("So"))
    return _DROP.sub("", text.translate(_HIRAGANA))


def _is_kanji(ch: str) -> bool:
    return 0x3400 <= ord(ch) <= 0x9FFF or 0xF900 <= ord(ch) <= 0xFAFF


def stray(folded: str) -> bool:
    """Too little to be an incident report (given folded text): at most one letter, two that are
    not both kanji, or at most three without a kanji (「ok」「はい」「いいえ」「yes」「5番」「1です」;
    but 「紛失」 and 「ddos」 are words)."""
    letters = [ch for ch in folded if ch.isalpha()]
    kanji = sum(map(_is_kanji, letters))
    return len(letters) <= 1 or (len(letters) == 2 and kanji < 2) or (len(letters) <= 3 and kanji == 0)


@dataclass(frozen=True)
class Prediction:
    intent: str
    confidence: float
    ranked: tuple[tuple[str, float], ...]  # every intent with its probability, best first


class _Speller:
    """Spelling variants replaced by their canonical form in folded text, longest spelling first."""

    def __init__(self, variants: dict[str, tuple[str, ...]]):
        # A canonical form maps to itself, so 「ランサム」 (a variant) never rewrites the inside of 「ランサムウェア」.
        self._canonical_of = {fold(canonical): fold(canonical) for canonical in variants}
        for canonical, spellings in variants.items():
            for variant in spellings:
                self._canonical_of.setdefault(fold(variant), fold(canonical))
        spellings = sorted((s for s in self._canonical_of if s), key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, spellings))) if spellings else None

    def __call__(self, folded: str) -> str:
        if self._pattern is None:
            return folded
        return self._pattern.sub(lambda m: self._canonical_of[m.group(0)], folded)


def grams(canonical: str) -> dict[str, int]:
    """The character n-grams of the marked text, with their counts (a bare marker is no feature)."""
    text = START + canonical + END
    counts: dict[str, int] = {}
    for n in NGRAM_SIZES:
        for i in range(len(text) - n + 1):
            gram = text[i:i + n]
            counts[gram] = counts.get(gram, 0) + 1
    counts.pop(START, None)
    counts.pop(END, None)
    return counts


@dataclass(frozen=True)
class _Model:
    """What training leaves: the n-gram features, their IDF, a weight per (feature, intent), a bias per
    intent, and the temperature that divides the scores."""
    features: dict[str, int]
    idf: np.ndarray  # (features,)
    weights: np.ndarray  # (features, intents)
    bias: np.ndarray  # (intents,)
    temperature: float = 1.0

    def vector(self, counts: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
        """The known n-grams' indices and values: sublinear TF times IDF, L2-normalised."""
        found = [(self.features[g], c) for g, c in counts.items() if g in self.features]
        if not found:
            return np.zeros(0, dtype=np.intp), np.zeros(0)
        index = np.fromiter((i for i, _ in found), dtype=np.intp, count=len(found))
        values = np.fromiter((1.0 + math.log(c) for _, c in found), dtype=float, count=len(found))
        values *= self.idf[index]
        return index, values / math.sqrt(_dot(values, values))

    def scores(self, counts: dict[str, int]) -> np.ndarray:
        index, values = self.vector(counts)
        return values @ self.weights[index] + self.bias

    def probabilities(self, counts: dict[str, int]) -> np.ndarray:
        scores = self.scores(counts) / self.temperature
        scores = np.exp(scores - scores.max())
        return scores / scores.sum()


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """a . b without BLAS, whose threads only get in each other's way on vectors this size."""
    return float(np.multiply(a, b).sum())


def _train(documents: list[dict[str, int]], labels: list[int], classes: int) -> _Model:
    """Multinomial logistic regression over the documents' TF-IDF vectors (L2, L-BFGS).

    The features are the n-grams of at least MIN_DOCUMENTS examples (one seen once says little
    about new wording). The fit is a few dozen passes over about 100,000 (example, n-gram) pairs,
    in buffers allocated once.
    """
    frequency_of: dict[str, int] = {}
    for counts in documents:
        for gram in counts:
            frequency_of[gram] = frequency_of.get(gram, 0) + 1
    features = {g: i for i, g in enumerate(g for g, f in frequency_of.items() if f >= MIN_DOCUMENTS)}
    frequency = np.fromiter((frequency_of[g] for g in features), dtype=float, count=len(features))
    idf = np.log((1 + len(documents)) / (1 + frequency)) + 1
    model = _Model(features, idf, np.zeros((len(features), classes)), np.zeros(classes))
    rows, cols, vals = [], [], []
    for r, counts in enumerate(documents):
        index, values = model.vector(counts)
        rows.append(np.full(len(index), r))
        cols.append(index)
        vals.append(values)
    row, col, val = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)[:, None]
    kept = np.unique(row)  # an example without any feature teaches nothing
    row, y = np.searchsorted(kept, row), np.asarray(labels)[kept]
    n, f, size = len(kept), len(features), len(features) * classes
    row_starts = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
    by_col = np.argsort(col, kind="stable")  # the same pairs, feature by feature (X transposed)
    t_row, t_col, t_val = row[by_col], col[by_col], val[by_col]
    col_starts = np.flatnonzero(np.r_[True, t_col[1:] != t_col[:-1]])
    used = t_col[col_starts]
    pairs = np.empty((len(col), classes))
    every = np.arange(n)

    def loss_and_gradient(w: np.ndarray) -> tuple[float, np.ndarray]:
        weights, bias = w[:size].reshape(f, classes), w[size:]
        np.take(weights, col, axis=0, out=pairs)
        np.multiply(pairs, val, out=pairs)
        scores = np.add.reduceat(pairs, row_starts, axis=0)
        scores += bias
        scores -= scores.max(axis=1, keepdims=True)
        error = np.exp(scores)
        total = error.sum(axis=1)
        loss = float(np.log(total).sum() - scores[every, y].sum()) + 0.5 * REGULARISATION * _dot(w[:size], w[:size])
        error /= total[:, None]
        error[every, y] -= 1.0
        gradient = w * REGULARISATION
        np.take(error, t_row, axis=0, out=pairs)
        np.multiply(pairs, t_val, out=pairs)
        gradient[:size].reshape(f, classes)[used] += np.add.reduceat(pairs, col_starts, axis=0)
        gradient[size:] = error.sum(axis=0)  # the bias is not penalised
        return loss, gradient

    w = _lbfgs(loss_and_gradient, np.zeros(size + classes))
    return _Model(features, idf, w[:size].reshape(f, classes).copy(), w[size:].copy())


def _lbfgs(fun, x: np.ndarray) -> np.ndarray:
    """Limited-memory BFGS with a backtracking (Armijo) line search; deterministic."""
    f, g = fun(x)
    steps: list[tuple[np.ndarray, np.ndarray, float]] = []
    for _ in range(MAX_ITERATIONS):
        direction = -g
        alphas = []
        for s, yv, rho in reversed(steps):
            a = rho * _dot(s, direction)
            alphas.append(a)
            direction -= a * yv
        if steps:
            s, yv, _ = steps[-1]
            direction *= _dot(s, yv) / _dot(yv, yv)
        for (s, yv, rho), a in zip(steps, reversed(alphas)):
            direction += (a - rho * _dot(yv, direction)) * s
        slope = _dot(g, direction)
        if slope >= 0:  # not a descent direction (rounding): start again from the gradient
            steps.clear()
            direction, slope = -g, -_dot(g, g)
        step = 1.0 if steps else 1.0 / max(1e-12, math.sqrt(_dot(g, g)))
        while True:
            x_new = x + step * direction
            f_new, g_new = fun(x_new)
            if f_new <= f + 1e-4 * step * slope or step < 1e-8:
                break
            step *= 0.5
        s, yv = x_new - x, g_new - g
        sy = _dot(s, yv)
        if sy > 1e-10:
            steps.append((s, yv, 1.0 / sy))
            del steps[:-HISTORY]
        converged = f - f_new <= TOLERANCE * max(1.0, abs(f))
        x, f, g = x_new, f_new, g_new
        if converged:
            break
    return x


def digest(spec: IntentSpec) -> str:
    """What the model depends on: the intents, their examples, the spelling variants, the model version."""
    data = {"version": MODEL_VERSION, "intents": spec.intents, "examples": spec.examples, "variants": spec.variants}
    return hashlib.sha256(json.dumps(data, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def out_of_fold_scores(documents: list[dict[str, int]], labels: list[int], classes: int) -> np.ndarray:
    """Every example's scores from a model trained without it (FOLDS folds: every FOLDS-th example,
    so each fold has some of every intent)."""
    scores = np.zeros((len(documents), classes))
    for k in range(FOLDS):
        held = range(k, len(documents), FOLDS)
        kept = [i for i in range(len(documents)) if i % FOLDS != k]
        model = _train([documents[i] for i in kept], [labels[i] for i in kept], classes)
        for i in held:
            scores[i] = model.scores(documents[i])
    return scores


def calibrated_temperature(scores: np.ndarray, labels: list[int]) -> float:
    """The lowest temperature with which at most CONFIDENT_WRONG of these (out-of-fold) predictions are
    wrong with a confidence of CONFIDENT or more."""
    wrong = scores.argmax(axis=1) != np.asarray(labels)
    shifted = scores - scores.max(axis=1, keepdims=True)
    for temperature in TEMPERATURES:
        confidence = 1.0 / np.exp(shifted / temperature).sum(axis=1)  # the top intent's probability
        if np.count_nonzero(wrong & (confidence >= CONFIDENT)) <= CONFIDENT_WRONG * len(labels):
            return float(temperature)
    return float(TEMPERATURES[-1])


def train(spec: IntentSpec) -> _Model:
    """The model of this content: fitted on every example, its temperature on out-of-fold predictions
    (FOLDS + 1 fits, a few seconds)."""
    speller = _Speller(spec.variants)
    documents, labels = [], []
    for i, intent in enumerate(spec.intents):
        for example in spec.examples[intent]:
            canonical = speller(fold(example))
            if canonical:
                documents.append(grams(canonical))
                labels.append(i)
    model = _train(documents, labels, len(spec.intents))
    temperature = calibrated_temperature(out_of_fold_scores(documents, labels, len(spec.intents)), labels)
    return _Model(model.features, model.idf, model.weights, model.bias, temperature)


def save(model: _Model, key: str, path: Path = SHIPPED_MODEL) -> None:
    """The model as a compressed .npz: float32 weights, features in index order, the content digest."""
    with open(path, "wb") as f:
        np.savez_compressed(f, digest=np.array(key), features=np.array(list(model.features)),
                            idf=model.idf.astype(np.float32), weights=model.weights.astype(np.float32),
                            bias=model.bias.astype(np.float32), temperature=np.array(model.temperature))


def load(key: str, path: Path = SHIPPED_MODEL) -> _Model | None:
    """The shipped model when it was trained on content with this digest, else None."""
    try:
        with np.load(path) as data:
            if str(data["digest"]) != key:
                return None
            names = data["features"].tolist()
            return _Model({g: i for i, g in enumerate(names)}, data["idf"].astype(float),
                          data["weights"].astype(float), data["bias"].astype(float), float(data["temperature"]))
    except FileNotFoundError:
        return None


_models: dict[str, _Model] = {}  # by content digest: every engine of this process shares one model
_models_lock = threading.Lock()


def model_for(spec: IntentSpec) -> _Model:
    key = digest(spec)
    with _models_lock:
        if key not in _models:
            model = load(key)
            if model is None:
                log.info("training the intent classifier on this content (%d intents)", len(spec.intents))
                model = train(spec)
            _models[key] = model
        return _models[key]


class IntentClassifier:
    def __init__(self, spec: IntentSpec):
        self.intents = tuple(spec.intents)
        self._incident = np.array([intent in spec.incident_kinds for intent in self.intents])
        self._fallback = self.intents.index(FALLBACK)
        self._spell = _Speller(spec.variants)
        self._model = model_for(spec)

    def canonical(self, text: str) -> str:
        return self._spell(fold(text))

    def probabilities(self, text: str) -> np.ndarray:
        """Every intent's probability, in the order of `intents`."""
        folded = fold(text)
        if not any(ch.isalpha() for ch in folded):
            probabilities = np.zeros(len(self.intents))
            probabilities[self._fallback] = 1.0
            return probabilities
        probabilities = self._model.probabilities(grams(self._spell(folded)))
        if stray(folded):
            probabilities[self._fallback] += probabilities[self._incident].sum()
            probabilities[self._incident] = 0.0
        return probabilities

    def classify(self, text: str) -> Prediction:
        probabilities = self.probabilities(text)
        order = sorted(range(len(self.intents)), key=lambda i: (-probabilities[i], i))
        ranked = tuple((self.intents[i], float(probabilities[i])) for i in order)
        return Prediction(ranked[0][0], ranked[0][1], ranked)


def main(argv: list[str]) -> int:
    """python -m bot.core.classifier [CONTENT_DIR]: train on the content (default: the shipped one)
    and write bot/core/intent_model.npz."""
    from bot.content.intents import load_intents
    from bot.settings import DEFAULT_CONTENT_DIR

    spec = load_intents(Path(argv[0]) if argv else DEFAULT_CONTENT_DIR)
    model = train(spec)
    save(model, digest(spec))
    print(f"{SHIPPED_MODEL}: {len(model.features)} features x {len(spec.intents)} intents, "
          f"temperature {model.temperature:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
