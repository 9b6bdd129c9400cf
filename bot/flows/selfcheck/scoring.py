"""Scoring of the 25-item self-check (4 / 2 / 0 / -1 per item, 100 points)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from bot.content.loader import Checklist

# Answer indexes, in the order content/checklist.yaml must list them.
DONE, PARTIAL, NOT_DONE, UNKNOWN = range(4)


@dataclass(frozen=True)
class CategoryScore:
    id: str
    name: str
    score: int
    max_score: int


@dataclass(frozen=True)
class DiagnosisScore:
    total: int
    max_total: int
    categories: tuple[CategoryScore, ...]
    # Per item (index = item no - 1): the answer index given (0 done .. 3 unknown).
    answers: tuple[int, ...]

    def items_answered(self, answer_index: int) -> list[int]:
        """Item numbers that got this answer."""
        return [no for no, a in enumerate(self.answers, start=1) if a == answer_index]


def score_diagnosis(answers: Sequence[int], checklist: Checklist) -> DiagnosisScore:
    """Score a complete set of answers (one answer index per item, in item order)."""
    if len(answers) != len(checklist.items):
        raise ValueError(f"expected {len(checklist.items)} answers, got {len(answers)}")
    points = [checklist.answers[a].score for a in answers]
    best = max(option.score for option in checklist.answers)
    categories = tuple(
        CategoryScore(
            id=c.id,
            name=c.name,
            score=sum(points[c.first - 1:c.last]),
            max_score=best * c.item_count,
        )
        for c in checklist.categories
    )
    return DiagnosisScore(
        total=sum(points),
        max_total=best * len(points),
        categories=categories,
        answers=tuple(answers),
    )


def weakest_items(score: DiagnosisScore, *, limit: int = 5) -> list[int]:
    """Items to work on first: not done before partly done, then in checklist order.

    Items answered "unknown" are left out: they need checking before anything else
    and are listed apart.
    """
    ranked = score.items_answered(NOT_DONE) + score.items_answered(PARTIAL)
    return ranked[:limit]
