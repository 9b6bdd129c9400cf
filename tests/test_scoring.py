"""Scoring: any answer sequence gives the total and subtotals computed independently."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.flows.selfcheck.scoring import score_diagnosis, weakest_items

# IPA's published scoring, written out here independently of content/checklist.yaml.
POINTS = {0: 4, 1: 2, 2: 0, 3: -1}
CATEGORIES = {"basic": range(0, 5), "employee": range(5, 18), "organization": range(18, 25)}

answer_sequences = st.lists(st.integers(min_value=0, max_value=3), min_size=25, max_size=25)


@settings(max_examples=300, deadline=None)
@given(answers=answer_sequences)
def test_total_and_subtotals_match_an_independent_count(answers, content):
    score = score_diagnosis(answers, content.checklist)
    counts = {a: answers.count(a) for a in POINTS}
    assert score.total == 4 * counts[0] + 2 * counts[1] - counts[3]
    subtotals = {c.id: c.score for c in score.categories}
    for category, indexes in CATEGORIES.items():
        assert subtotals[category] == sum(POINTS[answers[i]] for i in indexes)
    assert sum(subtotals.values()) == score.total
    assert -25 <= score.total <= 100
    assert score.max_total == 100
    assert {c.id: c.max_score for c in score.categories} == {"basic": 20, "employee": 52, "organization": 28}


@settings(max_examples=200, deadline=None)
@given(answers=answer_sequences)
def test_weakest_items_are_not_done_before_partly_done(answers, content):
    weakest = weakest_items(score_diagnosis(answers, content.checklist))
    kinds = [answers[no - 1] for no in weakest]
    assert kinds == sorted(kinds, reverse=True)  # 2 (not done) before 1 (partly)
    assert all(k in (1, 2) for k in kinds)
    expected = min(5, sum(a in (1, 2) for a in answers))
    assert len(weakest) == expected
