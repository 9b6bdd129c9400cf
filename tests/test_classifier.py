"""Recognition of incidents (and of the other intents) from plain Japanese.

Two labelled sets measure it; neither is copied into the examples the model learns from:
- tests/data/incident_utterances.tsv: `train` and `test` rows from before issue 11, `dev` rows
  written for it in varied styles (dialect, fragments, typos, English mixed in, app names).
  Their misses were looked at while the examples were written, so their figures are optimistic;
- tests/data/heldout_blind.tsv and heldout_blind2.tsv to heldout_blind6.tsv: each written by someone who
  never saw the examples or the other sets (label `other` is `unknown` here), and run once on the
  model of its day before anyone read it. The first five were then read while examples were
  written, so they are blind no more: their figures are printed and held to what was reached, and no
  example may be a near copy of one of their lines. The sixth, run once on the model that ships, is
  the honest figure; it has not been read for examples.
"""
from __future__ import annotations

import csv
import time
from collections import Counter

import numpy as np
import pytest

from bot.content.intents import OTHER_INTENTS
from bot.core import classifier as classifier_module
from bot.core.classifier import IntentClassifier, fold

DATA = "tests/data/incident_utterances.tsv"
BLIND = "tests/data/heldout_blind.tsv"
BLIND2 = "tests/data/heldout_blind2.tsv"
BLIND3 = "tests/data/heldout_blind3.tsv"
BLIND4 = "tests/data/heldout_blind4.tsv"
BLIND5 = "tests/data/heldout_blind5.tsv"
BLIND6 = "tests/data/heldout_blind6.tsv"
CONFIDENT = classifier_module.CONFIDENT  # the confidence at which a report opens at once (bot/flows/incidents/flow.py)


def labelled(project_root, *splits: str) -> list[dict[str, str]]:
    with open(project_root / DATA, encoding="utf-8") as f:
        return [row for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE) if row["split"] in splits]


def blind(project_root, path: str = BLIND) -> list[tuple[str, str]]:
    with open(project_root / path, encoding="utf-8") as f:
        rows = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [(r["text"], "unknown" if r["label"] == "other" else r["label"]) for r in rows]


def measure(classifier: IntentClassifier, rows: list[tuple[str, str]]) -> dict:
    """Accuracy, the shares confident (>= 0.6) and wrong and confident and right, ms per utterance, the misses."""
    start = time.perf_counter()
    predictions = [classifier.classify(text) for text, _ in rows]
    ms = (time.perf_counter() - start) * 1000 / len(rows)
    misses = [(gold, p.intent, p.confidence, text)
              for (text, gold), p in zip(rows, predictions) if p.intent != gold]
    confident_wrong = sum(1 for m in misses if m[2] >= CONFIDENT)
    confident_right = sum(1 for (_, gold), p in zip(rows, predictions) if p.intent == gold and p.confidence >= CONFIDENT)
    return {"n": len(rows), "accuracy": 1 - len(misses) / len(rows), "confident_wrong": confident_wrong / len(rows),
            "confident_right": confident_right / len(rows), "ms": ms, "misses": misses}


def summary(name: str, m: dict) -> str:
    return (f"\n{name}: {m['n'] - len(m['misses'])}/{m['n']} = {m['accuracy']:.1%}, "
            f"confident and wrong {m['confident_wrong']:.1%} (and right {m['confident_right']:.0%}), "
            f"{m['ms']:.3f} ms per utterance")


@pytest.fixture(scope="module")
def classifier(content):
    return IntentClassifier(content.intents)


def holds(classifier, content, rows, title: str, *, accuracy: float, capsys) -> None:
    """Print a held-out set's figures and hold them: at least `accuracy`, at most 1 % confident and
    wrong, under a millisecond an utterance, no non-incident confidently taken for an incident."""
    m = measure(classifier, rows)
    with capsys.disabled():
        print(summary(title, m))
    assert m["accuracy"] >= accuracy
    assert m["confident_wrong"] <= 0.01
    assert m["ms"] <= 1.0
    assert confident_false_incidents(m, content.intents.incident_kinds) == []


def test_the_labelled_set_is_large_and_covers_every_intent(project_root, content):
    rows = labelled(project_root, "train", "test", "dev")
    assert len(rows) >= 1000
    assert {r["intent"] for r in rows} == set(content.intents.intents)
    assert min(Counter(r["intent"] for r in labelled(project_root, "test", "dev")).values()) >= 10


def test_accuracy_on_the_held_out_part(classifier, project_root, capsys):
    rows = [(r["text"], r["intent"]) for r in labelled(project_root, "test", "dev")]
    m = measure(classifier, rows)
    # Only the figures are printed: these utterances are not to be looked at while working on the examples.
    with capsys.disabled():
        print(summary("held-out (test + dev)", m))
    assert m["accuracy"] >= 0.95
    assert m["confident_wrong"] <= 0.01


def test_the_blind_held_out_set(classifier, content, project_root, capsys):
    """The figures of issue 11 on 410 utterances written by someone who never saw the examples.

    Targets: >= 95 % right, <= 1 % confident (>= 0.6) and wrong, <= 1 ms per utterance. Reached:
    the first run of the finished model gave 89.3 % and 2.4 % (0.04 ms); the examples were then
    changed once for label conventions its misses showed (knowledge questions such as
    「ランサムウェアって何？」 are lessons; a symptom alone such as 「パソコンが起動しない」 is vague;
    browser notifications are fake alerts; an app installed from an SMS is malware; a website's admin
    screen is web_compromise; おつかれ and OK close), giving 93.9 % and 1.0 %, a figure no longer
    blind. Issue 11's calibration (the temperature) and the examples written after the second blind
    set's first run (which read this set's misses too): 93.9 % and 0.7 %. After the third set's run,
    about 550 examples written in new words for the kinds of phrasing all three sets' misses showed
    (this set's misses were read again): 97.8 % and 0.0 %. After the fourth set's run, about 750
    examples in new words for the kinds all four sets' misses showed: 98.5 % and 0.0 %. After the fifth
    set's run, about 540 examples in new words for concepts none of the sets had taught (macros enabled,
    a login from a fake share notice, a DDoS ransom threat, Search Console notices, the bot's operator):
    99.3 % and 0.0 %. The assertions hold what is reached.
    """
    rows = blind(project_root)
    assert len(rows) >= 400 and {gold for _, gold in rows} <= set(classifier.intents)
    # Nothing typed about something else is taken, confidently, for an incident (nobody paged by accident).
    holds(classifier, content, rows, "blind held-out", accuracy=0.99, capsys=capsys)


def confident_false_incidents(m: dict, kinds) -> list:
    """Misses where something that is not an incident was taken, confidently, for one."""
    return [miss for miss in m["misses"] if miss[1] in kinds and miss[0] not in kinds and miss[2] >= CONFIDENT]


def test_the_second_blind_held_out_set(classifier, content, project_root, capsys):
    """420 utterances written by someone who never saw the examples or the other sets (22 or 23 per intent).

    Its first, honest run (the model of the first blind set's test above): 87.9 % right, 3.3 % confident
    (>= 0.6) and wrong, 3 non-incidents confidently taken for incidents. Then, no longer blind: the
    temperature fitted on out-of-fold predictions (bot/core/classifier.py) and examples written in new
    words for the kinds of phrasing both blind sets' misses showed (a negated kind: 「〜じゃなくて」
    「ファイルは開ける」; a question about a threat with nothing happened yet; a symptom alone; paper
    documents left somewhere; data left open to anyone; personal data or a code typed after an SMS or a
    message; delivery and tax notices only received; a former employee still logging in; a warning only
    in the browser or only on the company's site): 89.5 %, 1.0 %, none. `👍` (labelled closing) is
    `unknown` with 1.0, as every message without letters is. After the third set's run, about 550 more
    examples for the kinds of phrasing the misses of all three sets showed (a password entered after
    all, after 「〜だけじゃなくて」; a site's own fake warning; paper left behind while the devices are
    kept; a former employee still signed in; threats by LINE or DM; a question about a threat with
    nothing happened; a symptom alone): 96.0 %, 0.5 % (👍 among them), none. The assertions hold what
    is reached. After the fourth set's run, about 750 more examples for the kinds all four sets' misses
    showed: 98.6 %, 0.2 % (👍), none. After the fifth set's run, about 540 more examples, and the
    previous round's examples that put lost papers under data_leak moved to lost_device (the convention
    of content/intents.yaml): 98.1 %, 0.7 % (3: 👍, and two papers left on a train or in a café, which
    this set's writer labelled data_leak and the model now, by that convention, calls lost_device), none.
    """
    rows = blind(project_root, BLIND2)
    assert len(rows) >= 400 and {gold for _, gold in rows} <= set(classifier.intents)
    holds(classifier, content, rows, "second blind held-out", accuracy=0.98, capsys=capsys)


def test_the_third_blind_held_out_set(classifier, content, project_root, capsys):
    """420 utterances written by a third writer who never saw the examples or the other sets, kept
    unread until the model of the tests above was finished, and run once.

    First run, blind: 378/420 = 90.0 % right, 1.0 % confident (>= 0.6) and wrong (4), one
    non-incident confidently taken for an incident (a wish to practise spotting suspicious mail,
    taken for suspicious_email at 0.66: the first steps are shown, but below notify_confidence 0.8
    nobody is paged). This set is NO LONGER BLIND: its misses were then read with the other two
    sets' and about 550 examples written in new words for the kinds they showed (those tell which
    words matter for the advice, not its lines: the near-copy test below covers it too, and 11 older
    examples that happened to match its lines were reworded): 97.6 %, 0.7 % (3), none. After the fourth
    set's run, about 750 more examples for the kinds all four sets' misses showed: 99.3 %, 0.0 %, none.
    After the fifth set's run (about 540 more examples; lost papers now lost_device by the convention of
    content/intents.yaml): 99.0 %, 0.5 % (the two papers left behind that this writer labelled
    data_leak), none. These figures are optimistic; the sixth set, never seen, measures the model.
    """
    rows = blind(project_root, BLIND3)
    assert len(rows) >= 400 and {gold for _, gold in rows} <= set(classifier.intents)
    holds(classifier, content, rows, "third held-out (blind at its first run only)", accuracy=0.99, capsys=capsys)


def test_the_fourth_blind_held_out_set(classifier, content, project_root, capsys):
    """420 utterances by a fourth writer who saw nothing of the project, kept unread while the
    examples were written from the misses of the first three sets.

    Blind runs: on the model before that round (the third set's), 90.2 % right, 1.4 % confident (>= 0.6)
    and wrong, no confident false incident; on the model of that round (its first run, the honest
    figure), 392/420 = 93.3 %, 0.7 % confident and wrong (3), no confident false incident. This set
    is NO LONGER BLIND: its misses were then read with the other three sets' and about 750 examples
    written in new words for the kinds they showed (none a near copy of its lines, see below):
    417/420 = 99.3 %, 0.2 % (1, 👍), none. After the fifth set's run, about 540 more examples, and
    lost papers moved from data_leak to lost_device by the convention of content/intents.yaml (this
    writer labelled three such lines data_leak; two are now confidently lost_device): 412/420 = 98.1 %,
    0.7 % (3: 👍 and those two), none. That figure is optimistic; the sixth set, written elsewhere and
    never seen, measures the model. The assertions hold what is reached.
    """
    rows = blind(project_root, BLIND4)
    assert len(rows) >= 400 and {gold for _, gold in rows} <= set(classifier.intents)
    holds(classifier, content, rows, "fourth held-out (blind at its first run only)", accuracy=0.98, capsys=capsys)


def test_the_fifth_blind_held_out_set(classifier, content, project_root, capsys):
    """420 utterances by a fifth writer who saw nothing of the project (the same brief as the
    others: the label definitions only), kept unread until the model of the fourth set's round was
    finished, then run once: the honest figure of issue 11 for that model.

    First run, blind: 387/420 = 92.1 % right, 0.2 % confident (>= 0.6) and wrong (1), no confident
    false incident; 0.07 ms an utterance. The 95 % target was not met. Of the 33 misses, 23 were one
    incident kind taken for another (macros enabled → suspicious_email rather than malware; a company
    login typed into a fake Dropbox or Instagram page → account_takeover rather than phishing). This
    set is NO LONGER BLIND: its misses were then read with the other four sets' and about 540
    examples written in new words for the concepts they showed the model did not know, and more
    (none a near copy of its lines, see below): 409/420 = 97.4 %, 0.0 %, none. That figure is
    optimistic; the sixth set, written elsewhere and never seen, measures the model. The assertions
    hold what is reached.
    """
    rows = blind(project_root, BLIND5)
    assert len(rows) >= 400 and {gold for _, gold in rows} <= set(classifier.intents)
    holds(classifier, content, rows, "fifth held-out (blind at its first run only)", accuracy=0.97, capsys=capsys)


def test_the_sixth_blind_held_out_set(classifier, content, project_root, capsys):
    """420 utterances by a sixth writer who saw nothing of the project (the same brief: the label
    definitions only), kept unread until the model of the fifth set's round was finished, then run
    once: the honest figure of issue 11 for the model that ships.

    First run, blind: 400/420 = 95.2 % right (about one point either way on 420 lines), 0.0 %
    confident (>= 0.6) and wrong, no confident false incident; 0.08 ms an utterance. All 20 misses
    are below the confidence at which a report opens by itself: 9 one incident kind taken for
    another (a worm's mail sent in our name → suspicious_email rather than malware), 2
    non-incidents for an incident at 0.14-0.28 (「Slackだけじゃなくて、LINEでも使える？」, a
    hospital's systems all acting up), the rest among the non-incidents. 15 of its lines are within
    a few edits of an example written before the set existed (「承知いたしました」「どんな相談に乗って
    くれるんですか」: what anyone types); without them, 385/405 = 95.1 %. Not read for examples.
    """
    rows = blind(project_root, BLIND6)
    assert len(rows) >= 400 and {gold for _, gold in rows} <= set(classifier.intents)
    holds(classifier, content, rows, "sixth blind held-out", accuracy=0.95, capsys=capsys)


def _edits(a: str, b: str) -> int:
    """Levenshtein distance."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def test_no_example_is_a_near_copy_of_a_blind_line(content, project_root):
    """The examples are written in their own words: none is within a few edits (2, or a quarter of the
    line) of a line of any of the five blind sets, folded. Lines shorter than 8 characters are common words
    (「ヘルプ」「了解です」「はい」) that any writer would type the same."""
    lines = [fold(text) for path in (BLIND, BLIND2, BLIND3, BLIND4, BLIND5) for text, _ in blind(project_root, path)]
    lines = [line for line in lines if len(line) >= 8]
    examples = {fold(e) for intent in content.intents.intents for e in content.intents.examples[intent]}
    near = []
    for example in examples:
        for line in lines:
            limit = max(2, len(line) // 4)
            if abs(len(example) - len(line)) <= limit and _edits(example, line) <= limit:
                near.append((example, line))
    assert near == []


def test_one_utterance_takes_well_under_a_millisecond(classifier):
    text = "取引先から振込先が変わったという英語のメールが来たんやけど、ほんまかいな"
    classifier.classify(text)
    start = time.perf_counter()
    for _ in range(200):
        classifier.classify(text)
    assert (time.perf_counter() - start) / 200 < 0.001


STRAY = ([str(n) for n in range(100)] + ["０", "５", "１２", "９９", "3番", "1です", "ok", "OK", "yes", "no", "はい", "いいえ",
         "うん", "😀", "👍", "🙏🙏", "!", "？", "。", "…", "w", "ｗ", "a", "x", "abc"]
         + [chr(c) for c in range(ord("a"), ord("z") + 1)] + [chr(c) for c in range(0x3041, 0x3094)]
         + [chr(c) for c in range(0x30A1, 0x30F5)] + list("暗金盗鍵感漏脅詐"))


@pytest.mark.parametrize("text", STRAY)
def test_numbers_single_characters_and_short_tokens_are_never_incidents(classifier, content, text):
    prediction = classifier.classify(text)
    assert prediction.intent not in content.intents.incident_kinds
    assert all(p == 0.0 for intent, p in prediction.ranked if intent in content.intents.incident_kinds)


@pytest.mark.parametrize("text", ["0", "12", "99", "１２", "😀", "!!", "   "])
def test_a_message_without_letters_is_unknown(classifier, text):
    assert classifier.classify(text).intent == "unknown" and classifier.classify(text).confidence == 1.0


@pytest.mark.parametrize("text, intent", [
    ("ファイルが暗号化された", "ransomware"),
    ("ﾌｧｲﾙが暗号化された", "ransomware"),
    ("怪しいメールの添付を開いてしまった", "suspicious_email"),
    ("社用スマホをなくした", "lost_device"),
    ("ＰＣ置き忘れた", "lost_device"),
    ("ぱそこんが ういるすに かんせんした", "malware"),
    ("振込先を変えてほしいとメールが来ました", "bec"),
    ("パスワードを変えたい", "unknown"),
])
def test_spelling_width_and_kana_variants(classifier, text, intent):
    assert classifier.classify(text).intent == intent


@pytest.mark.parametrize("text, intent", [
    # The company's website or servers (web_compromise) vs an account (account_takeover).
    ("会社のホームページを誰かに乗っ取られて変な画面になってる", "web_compromise"),
    ("会社のインスタを誰かに乗っ取られて変な投稿がされてる", "account_takeover"),
    # A password or card number already entered (phishing) vs a mail only opened or clicked.
    ("メールのリンクからログイン画面に行ってパスワードを入れてしまった", "phishing"),
    ("メールのリンクを開いただけで、パスワードは入れてない", "suspicious_email"),
    # A learning request that names a threat (lesson) vs the incident itself.
    ("ランサムウェアについて社員と一緒に勉強したい", "lesson"),
    ("ランサムウェアに感染して社員のパソコンが使えない", "ransomware"),
    # The end of a conversation, and trouble without a kind.
    ("ありがとうございました、もう大丈夫です", "closing"),
    ("なんかおかしなことになってて困ってる", "vague"),
])
def test_close_kinds_are_told_apart_by_what_changes_the_advice(classifier, text, intent):
    assert classifier.classify(text).intent == intent


def test_folding_is_width_case_and_kana_blind():
    assert fold("ＰＣ ぱそこん ﾊﾟｿｺﾝ") == fold("pcパソコンパソコン")


def test_confidence_is_a_probability_and_ranks_all_intents(classifier, content):
    prediction = classifier.classify("画面に身代金を払えと出ています")
    assert prediction.intent == "ransomware" and 0.5 < prediction.confidence <= 1.0
    assert len(prediction.ranked) == len(content.intents.intents)
    assert abs(sum(p for _, p in prediction.ranked) - 1.0) < 1e-9
    assert [p for _, p in prediction.ranked] == sorted((p for _, p in prediction.ranked), reverse=True)


def test_the_intents_are_the_incident_kinds_then_the_others(content):
    spec = content.intents
    assert spec.incident_kinds == content.incidents.kinds == tuple(content.incidents.playbooks)
    assert OTHER_INTENTS == ("diagnosis", "lesson", "help", "closing", "vague", "unknown")
    assert spec.intents == spec.incident_kinds + OTHER_INTENTS


def test_the_shipped_model_is_trained_on_the_shipped_content(content):
    """bot/core/intent_model.npz is what `python -m bot.core.classifier` writes from content/ now."""
    key = classifier_module.digest(content.intents)
    shipped = classifier_module.load(key)
    assert shipped is not None, ("bot/core/intent_model.npz is missing or was trained on other content: "
                                 "run `python -m bot.core.classifier` and commit it")
    fresh = classifier_module.train(content.intents)
    assert list(fresh.features) == list(shipped.features)
    np.testing.assert_allclose(fresh.weights, shipped.weights, atol=1e-4)
    np.testing.assert_allclose(fresh.bias, shipped.bias, atol=1e-4)
    assert fresh.temperature == shipped.temperature


def test_the_temperature_keeps_confident_mistakes_on_unseen_examples_rare():
    """On made-up out-of-fold scores: the lowest temperature wins with which at most 0.5 % of the
    predictions are wrong with a confidence of 0.6 or more."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, size=1000)
    scores = rng.normal(size=(1000, 5))
    scores[np.arange(1000), labels] += 2.0  # mostly right, some confidently wrong
    temperature = classifier_module.calibrated_temperature(scores, labels.tolist())

    def confident_wrong(t):
        p = np.exp(scores / t)
        p /= p.sum(axis=1, keepdims=True)
        return np.count_nonzero((p.argmax(axis=1) != labels) & (p.max(axis=1) >= CONFIDENT)) / len(labels)
    assert confident_wrong(temperature) <= classifier_module.CONFIDENT_WRONG < confident_wrong(temperature - 0.01)


def test_the_shipped_content_is_not_trained_at_start_up(content, monkeypatch):
    def no_training(spec):
        raise AssertionError("trained at start-up although the shipped model fits the content")

    monkeypatch.setattr(classifier_module, "train", no_training)
    monkeypatch.setattr(classifier_module, "_models", {})
    start = time.perf_counter()
    IntentClassifier(content.intents)
    assert time.perf_counter() - start < 0.5


def test_other_content_is_trained_at_start_up(content, monkeypatch):
    monkeypatch.setattr(classifier_module, "_models", {})
    spec = content.intents
    examples = dict(spec.examples, unknown=spec.examples["unknown"] + ("量子計算機の話をしよう",))
    other = type(spec)(intents=spec.intents, examples=examples, variants=spec.variants,
                       incident_kinds=spec.incident_kinds)
    assert IntentClassifier(other).classify("社用スマホを電車に置き忘れた").intent == "lost_device"
