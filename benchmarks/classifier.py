"""The intent classifier against the alternatives considered for it (issue 11).

    .venv/bin/python benchmarks/classifier.py [--blind] [--misses] [CANDIDATE ...]

Candidates (one whose packages are not installed is skipped, with the reason; the others
were measured in a separate virtual environment with scikit-learn, sudachipy +
sudachidict-core, fugashi + unidic-lite, and ja-ginza installed from PyPI):

  chosen          bot/core/classifier.py: TF-IDF of character 1-3-grams (message start and end
                  marked), softmax regression fitted with L-BFGS in numpy; the model of the
                  shipped content ships with the package
  nb-cues         the classifier before issue 11 (character n-gram naive Bayes + weighted cue
                  phrases), with its content, from git (BASELINE_REVISION)
  sk-char         scikit-learn: TF-IDF character 1-3-grams + LogisticRegression (C=10)
  sk-sudachi      SudachiPy (sudachidict_core, mode A, normalised forms) word 1-2-grams
                  + character 1-3-grams, LogisticRegression
  sk-fugashi      fugashi + unidic-lite (lemmas) word 1-2-grams + character 1-3-grams, LogisticRegression
  sk-sudachi-svc  as sk-sudachi, LinearSVC with CalibratedClassifierCV (sigmoid, 5 folds)
  ginza-vectors   ja_ginza's static word vectors (spaCy), averaged, + character 1-3-grams, LogisticRegression

All but nb-cues learn from the same content (content/intents.yaml + intent_examples.yaml).
Sets: tests/data/incident_utterances.tsv, `train` rows and `test` + `dev` rows (new phrasing)
apart; with --blind also tests/data/heldout_blind.tsv and heldout_blind2-6.tsv (label `other` is `unknown`).
Figures: accuracy, the share confident (>= 0.6) and wrong, ms per utterance, and start-up: a
fresh process importing what the candidate needs and building (or loading) its model, as the
engine does at start-up (the content is read before the clock starts). The scikit-learn
candidates fit at start-up; the floors printed last are what they would pay even loading a
model fitted beforehand.
"""
from __future__ import annotations

import argparse
import csv
import importlib.util
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BASELINE_REVISION = "97a2ae8"  # the last commit with the naive Bayes + cue phrases classifier
LABELLED = ROOT / "tests" / "data" / "incident_utterances.tsv"
BLIND = ROOT / "tests" / "data" / "heldout_blind.tsv"
CONFIDENT = 0.6


def content_spec():
    from bot.content.intents import load_intents
    return load_intents(ROOT / "content")


# --- the candidates: each builds from the content and returns classify(text) -> (intent, confidence)

def chosen():
    from bot.core.classifier import IntentClassifier

    classifier = IntentClassifier(content_spec())

    def classify(text):
        p = classifier.classify(text)
        return p.intent, p.confidence
    return classify


def nb_cues_source():
    """The classifier of BASELINE_REVISION and that revision's content (its intents had no closing or vague)."""
    import yaml

    def show(path):
        return subprocess.run(["git", "show", f"{BASELINE_REVISION}:{path}"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout
    source = show("bot/core/classifier.py").replace("from bot.content.intents import IntentSpec", "IntentSpec = object")
    data, more = yaml.safe_load(show("content/intents.yaml")), yaml.safe_load(show("content/intent_examples.yaml"))
    kinds = tuple(yaml.safe_load(show("content/incidents/policy.yaml"))["kinds"])
    intents = kinds + ("diagnosis", "lesson", "help", "unknown")
    spec = SimpleNamespace(intents=intents,
                           examples={i: tuple(data["examples"][i]) + tuple(more.get(i, ())) for i in intents},
                           cues={i: dict(data["cues"].get(i, {})) for i in intents},
                           variants={k: tuple(v) for k, v in data["variants"].items()})
    return source, spec


def nb_cues(prepared=None):
    source, spec = prepared or nb_cues_source()
    module = types.ModuleType("nb_cues")
    sys.modules["nb_cues"] = module
    exec(compile(source, "nb_cues.py", "exec"), module.__dict__)
    classifier = module.IntentClassifier(spec)

    def classify(text):
        p = classifier.classify(text)
        return p.intent, p.confidence
    return classify


def _canonical():
    from bot.core.classifier import IntentClassifier
    classifier = IntentClassifier.__new__(IntentClassifier)
    from bot.core.classifier import _Speller
    classifier._spell = _Speller(content_spec().variants)
    return classifier.canonical


def _sudachi_words():
    from sudachipy import Dictionary, SplitMode
    tokenizer = Dictionary(dict="core").create()

    def words(text):
        return [m.normalized_form() for m in tokenizer.tokenize(text, SplitMode.A) if m.part_of_speech()[0] != "補助記号"]
    return words


def _fugashi_words():
    import fugashi
    tagger = fugashi.Tagger()

    def words(text):
        return [w.feature.lemma or w.surface for w in tagger(text) if w.feature.pos1 != "補助記号"]
    return words


def _sklearn(words=None, svc=False, vectors=None):
    import numpy as np
    from scipy.sparse import csr_matrix, hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    canonical = _canonical()
    spec = content_spec()
    texts = [e for i in spec.intents for e in spec.examples[i]]
    labels = [i for i in spec.intents for _ in spec.examples[i]]
    parts = [TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, preprocessor=canonical)]
    if words:
        def word_grams(text):
            ws = words(canonical(text))
            return ws + [" ".join(ws[i:i + 2]) for i in range(len(ws) - 1)]
        parts.append(TfidfVectorizer(analyzer=word_grams, sublinear_tf=True))

    def features(batch, fit=False):
        blocks = [p.fit_transform(batch) if fit else p.transform(batch) for p in parts]
        if vectors:
            blocks.append(csr_matrix(np.array([vectors(t) for t in batch])))
        return hstack(blocks).tocsr()
    matrix = features(texts, fit=True)
    if svc:
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.svm import LinearSVC
        model = CalibratedClassifierCV(LinearSVC(C=1.0), method="sigmoid", cv=5)
    else:
        model = LogisticRegression(C=10.0, max_iter=2000)
    model.fit(matrix, labels)

    def classify(text):
        if not canonical(text):
            return "unknown", 1.0
        p = model.predict_proba(features([text]))[0]
        best = int(p.argmax())
        return model.classes_[best], float(p[best])
    return classify


def sk_char():
    return _sklearn()


def sk_sudachi():
    return _sklearn(words=_sudachi_words())


def sk_fugashi():
    return _sklearn(words=_fugashi_words())


def sk_sudachi_svc():
    return _sklearn(words=_sudachi_words(), svc=True)


def ginza_vectors():
    import numpy as np
    import spacy

    nlp = spacy.load("ja_ginza", exclude=["parser", "ner", "morphologizer", "compound_splitter", "bunsetu_recognizer"])

    def mean_vector(text):
        vs = [w.vector for w in nlp.make_doc(text) if w.has_vector and not w.is_punct]
        if not vs:
            return np.zeros(nlp.vocab.vectors.shape[1])
        v = np.mean(vs, axis=0)
        return v / (np.linalg.norm(v) or 1.0)
    return _sklearn(vectors=mean_vector)


CANDIDATES = {
    "chosen": (chosen, ("numpy",)),
    "nb-cues": (nb_cues, ()),
    "sk-char": (sk_char, ("sklearn",)),
    "sk-sudachi": (sk_sudachi, ("sklearn", "sudachipy", "sudachidict_core")),
    "sk-fugashi": (sk_fugashi, ("sklearn", "fugashi", "unidic_lite")),
    "sk-sudachi-svc": (sk_sudachi_svc, ("sklearn", "sudachipy", "sudachidict_core")),
    "ginza-vectors": (ginza_vectors, ("sklearn", "spacy", "ja_ginza")),
}


# --- the sets and the figures

def labelled(*splits):
    with open(LABELLED, encoding="utf-8") as f:
        return [(r["text"], r["intent"]) for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
                if r["split"] in splits]


def blind(path=BLIND):
    with open(path, encoding="utf-8") as f:
        return [(r["text"], "unknown" if r["label"] == "other" else r["label"])
                for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)]


def measure(classify, rows):
    start = time.perf_counter()
    predicted = [classify(text) for text, _ in rows]
    ms = (time.perf_counter() - start) * 1000 / len(rows)
    misses = [(gold, intent, confidence, text) for (text, gold), (intent, confidence) in zip(rows, predicted)
              if intent != gold]
    return {"accuracy": 1 - len(misses) / len(rows), "confident_wrong": sum(m[2] >= CONFIDENT for m in misses) / len(rows),
            "ms": ms, "misses": misses, "n": len(rows)}


def startup(name: str) -> float:
    """Seconds a fresh process takes to import what the candidate needs and build its model (median of 3)."""
    code = (f"import sys, time; sys.path.insert(0, {str(ROOT)!r}); sys.argv = ['x']\n"
            "import benchmarks.classifier as b\n"
            "spec = b.content_spec()\n"
            "b.content_spec = lambda: spec\n"
            f"prepared = b.nb_cues_source() if {name!r} == 'nb-cues' else None\n"
            "t = time.perf_counter()\n"
            f"b.CANDIDATES[{name!r}][0](prepared) if prepared else b.CANDIDATES[{name!r}][0]()\n"
            "print(time.perf_counter() - t)\n")
    times = []
    for _ in range(3):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tempfile.gettempdir())
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-2000:])
        times.append(float(done.stdout.split()[-1]))
    return sorted(times)[1]


IMPORT_FLOORS = {  # what a candidate pays at start-up even when its trained model is loaded instead of fitted
    "numpy": "import numpy",
    "scikit-learn": "import sklearn.linear_model, sklearn.feature_extraction.text",
    "sudachipy + dictionary": "import sudachipy; sudachipy.Dictionary(dict='core').create()",
    "fugashi + unidic-lite": "import fugashi; fugashi.Tagger()",
    "spaCy + ja_ginza": "import spacy; spacy.load('ja_ginza', exclude=['parser', 'ner', 'morphologizer', "
                        "'compound_splitter', 'bunsetu_recognizer'])",
}


def import_floor(statement: str) -> float | None:
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    times = []
    for _ in range(3):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if done.returncode != 0:
            return None
        times.append(float(done.stdout.split()[-1]))
    return sorted(times)[1]


def available(modules) -> str | None:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    return f"not installed: {', '.join(missing)}" if missing else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("candidates", nargs="*", default=list(CANDIDATES))
    parser.add_argument("--blind", action="store_true", help="also measure on tests/data/heldout_blind*.tsv")
    parser.add_argument("--misses", action="store_true", help="list the misses on the held-out sets")
    args = parser.parse_args()
    sets = {"train": labelled("train"), "test+dev": labelled("test", "dev")}
    if args.blind:
        sets["blind"] = blind()
        for n in (2, 3, 4, 5, 6):
            sets[f"blind{n}"] = blind(ROOT / "tests" / "data" / f"heldout_blind{n}.tsv")
    print(f"{'candidate':16} " + " ".join(f"{name + f' ({len(rows)})':>24}" for name, rows in sets.items())
          + f" {'ms/utt':>7} {'start-up':>9}")
    for name in args.candidates:
        build, modules = CANDIDATES[name]
        reason = available(modules)
        if reason:
            print(f"{name:16} skipped ({reason})")
            continue
        classify = build()
        results = {set_name: measure(classify, rows) for set_name, rows in sets.items()}
        ms = sum(r["ms"] * r["n"] for r in results.values()) / sum(r["n"] for r in results.values())
        cells = " ".join(f"{r['accuracy']:>10.1%} cw {r['confident_wrong']:>5.1%}    " for r in results.values())
        print(f"{name:16} {cells} {ms:7.3f} {startup(name):8.2f}s", flush=True)
        if args.misses:
            for set_name, r in results.items():
                if set_name != "train":
                    for gold, intent, confidence, text in sorted(r["misses"]):
                        print(f"    {set_name}\t{gold}\t-> {intent} {confidence:.2f}\t{text}")
    print("start-up floors (a fresh process, imports and dictionaries only):")
    for what, statement in IMPORT_FLOORS.items():
        seconds = import_floor(statement)
        print(f"  {what:24} " + ("not installed" if seconds is None else f"{seconds:.2f}s"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
