from __future__ import annotations

import pytest

from trajectory_trainer.data import MemoryQuestion
from trajectory_trainer.recall import is_correct, normalise, score


def q(kind="fact", swap="none", value="Utrecht", subject="I", answer="You live in Utrecht.", fact="f1", relation="live in"):
    return MemoryQuestion(
        id=f"{kind}-{swap}-{answer}", fact_id=fact, subject=subject, relation=relation, value=value,
        question="?", answer=answer, kind=kind, system="s", tags=(f"swap:{swap}",) if kind == "fact" else (),
    )


def test_normalise():
    assert normalise("  It's  UTRECHT!!  ") == "it s utrecht"
    assert normalise("Clint—Yeastwood.") == "clint yeastwood"


@pytest.mark.parametrize(
    ("question", "answer", "ok"),
    [
        (q(), "utrecht", True),
        (q(), "You live in UTRECHT!", True),
        (q(), "In Utrechtse", False),  # a whole word, not a prefix
        (q(), "Amsterdam.", False),
        (q(value="Clint Yeastwood", subject="my sourdough starter"), "It's clint  yeastwood.", True),
        (q(value="12 March"), "On 12 March.", True),
        # who is called Clint Yeastwood? -> the subject
        (q(swap="subject", value="Clint Yeastwood", subject="my sourdough starter", answer="Your sourdough starter."),
         "Your sourdough starter.", True),
        (q(swap="subject", value="Clint Yeastwood", subject="my sourdough starter"), "Sourdough starter!", True),
        (q(swap="subject", value="Clint Yeastwood", subject="my sourdough starter"), "Your dog.", False),
        (q(swap="subject", subject="I", value="Utrecht", answer="You."), "You do.", True),
        # confirmations: "Do I live in Utrecht?" / "Do I live in Paris?"
        (q(swap="confirm", answer="Yes."), "Yes.", True),
        (q(swap="confirm", answer="Yes."), "That's right, Utrecht.", True),
        (q(swap="confirm", answer="Yes."), "No.", False),
        (q(swap="confirm", answer="No, in Utrecht."), "No, you live in Utrecht.", True),
        (q(swap="confirm", answer="No, in Utrecht."), "Yes, you live in Utrecht.", False),
        (q(swap="confirm", answer="No, in Utrecht."), "No.", True),
        # negatives must not bring the fact in; unknowns must say they do not know
        (q(kind="negative"), "Popular places change over time.", True),
        (q(kind="negative"), "You live in Utrecht, by the way.", False),
        (q(kind="unknown", value=""), "I don't know — you haven't told me.", True),
        (q(kind="unknown", value=""), "You never mentioned it.", True),
        (q(kind="unknown", value=""), "It's Paris.", False),
    ],
)
def test_is_correct(question, answer, ok):
    assert is_correct(question, answer) is ok


def test_score_per_fact_and_totals():
    questions = [
        q(fact="f1"), q(fact="f1"), q(fact="f2", value="12 March", subject="my partner", relation="birthday"),
        q(kind="negative"), q(kind="unknown", value=""),
    ]
    answers = ["Utrecht.", "Paris.", "12 March.", "No idea what you mean.", "I don't know."]
    result = score(questions, answers)
    assert (result.asked, result.correct, result.accuracy) == (3, 2, pytest.approx(2 / 3))
    assert result.negative_accuracy == 1.0 and result.unknown_accuracy == 1.0
    by_id = {f.fact_id: f for f in result.facts}
    assert (by_id["f1"].asked, by_id["f1"].correct, by_id["f1"].accuracy) == (2, 1, 0.5)
    assert by_id["f2"].accuracy == 1.0
    proto = result.to_proto()
    assert proto.asked == 3 and len(proto.facts) == 2 and proto.facts[0].relation in ("live in", "birthday")
    assert [a.correct for a in result.answers] == [True, False, True, True, True]
