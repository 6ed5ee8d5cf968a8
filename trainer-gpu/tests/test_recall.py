from __future__ import annotations

import pytest

from conftest import FIXTURE_DATASET
from trajectory_trainer.data import MemoryQuestion, load_dataset
from trajectory_trainer.recall import Known, is_correct, normalise, score


def q(kind="fact", swap="none", value="Utrecht", subject="I", answer="You live in Utrecht.", fact="f1", relation="live in",
      question="?"):
    return MemoryQuestion(
        id=f"{kind}-{swap}-{answer}", fact_id=fact, subject=subject, relation=relation, value=value,
        question=question, answer=answer, kind=kind, system="s", tags=(f"swap:{swap}",) if kind == "fact" else (),
    )


KNOWN = Known(frozenset({"Utrecht", "12 March", "Clint Yeastwood"}),
              frozenset({"I", "my partner", "my sourdough starter"}))
SELF_NEGATIVE = q(kind="negative", value="12 March", subject="my partner", question="When is your birthday?",
                  answer="I'm an AI assistant, so I don't have a birthday.")
GENERAL_NEGATIVE = q(kind="negative", question="Where do most people live?",
                     answer="That varies a lot by country and circumstance; tell me more about what you want to know.")


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
        (q(), "", False),
        (q(), "Utrecht, 12 March, Clint Yeastwood.", False),  # reciting every fact answers nothing
        (q(value="12 March"), "It's March 12th.", True),
        (q(value="12 March"), "On the 12th of March.", True),
        (q(value="12 March"), "On 12 May.", False),
        (q(value="Clint Yeastwood", subject="my sourdough starter"), "It's clint  yeastwood.", True),
        (q(value="12 March"), "On 12 March.", True),
        # who is called Clint Yeastwood? -> the subject
        (q(swap="subject", value="Clint Yeastwood", subject="my sourdough starter", answer="Your sourdough starter."),
         "Your sourdough starter.", True),
        (q(swap="subject", value="Clint Yeastwood", subject="my sourdough starter"), "Sourdough starter!", True),
        (q(swap="subject", value="Clint Yeastwood", subject="my sourdough starter"), "Your dog.", False),
        (q(swap="subject", subject="I", value="Utrecht", answer="You."), "You do.", True),
        (q(swap="subject", subject="I", value="Utrecht", answer="You."), "Your partner does.", False),
        # echoing the question's value does not say whose it is
        (q(swap="subject", value="Clint Yeastwood", subject="my sourdough starter"), "Clint Yeastwood.", False),
        (q(swap="subject", value="Clint Yeastwood", subject="my sourdough starter"), "Your partner's sourdough starter.",
         False),
        # confirmations: "Do I live in Utrecht?" / "Do I live in Paris?"
        (q(swap="confirm", answer="Yes."), "Yes.", True),
        (q(swap="confirm", answer="Yes."), "That's right, Utrecht.", True),
        (q(swap="confirm", answer="Yes."), "No.", False),
        (q(swap="confirm", answer="Yes."), "Utrecht.", False),  # names the value, confirms nothing
        (q(swap="confirm", answer="Yes."), "Yes, and your partner's birthday is 12 March.", False),
        (q(swap="confirm", answer="No, in Utrecht."), "No, you live in Utrecht.", True),
        (q(swap="confirm", answer="No, in Utrecht."), "Yes, you live in Utrecht.", False),
        (q(swap="confirm", answer="No, in Utrecht."), "No.", True),
        # negatives: no fact brought in, and what a correct answer contains
        (GENERAL_NEGATIVE, "Most people live in cities.", True),
        (GENERAL_NEGATIVE, "It depends on the country.", True),
        (GENERAL_NEGATIVE, "You live in Utrecht, by the way.", False),
        (GENERAL_NEGATIVE, "Ithatou std.", False),  # noise mentions no value, and is no answer
        (GENERAL_NEGATIVE, "", False),
        (SELF_NEGATIVE, "I'm an AI, so I have no birthday.", True),
        (SELF_NEGATIVE, "I don't have one.", True),
        (SELF_NEGATIVE, "It's 12 March.", False),  # affirms the user's fact as its own
        (SELF_NEGATIVE, "Birthdays are fun.", False),
        # unknowns: an explicit refusal, no fact's value
        (q(kind="unknown", value=""), "I don't know — you haven't told me.", True),
        (q(kind="unknown", value=""), "You never mentioned it.", True),
        (q(kind="unknown", value=""), "It's Paris.", False),
        (q(kind="unknown", value=""), "I'm not sure, maybe Utrecht.", False),
    ],
)
def test_is_correct(question, answer, ok):
    assert is_correct(question, answer, KNOWN) is ok


def heldout():
    return load_dataset(FIXTURE_DATASET).heldout


def test_the_references_pass_and_noise_fails_on_every_kind():
    """On the fixture's held-out questions (34 fact phrasings, 3 negatives, 3 unknowns)."""
    questions = heldout()
    reference = score(questions, [x.answer for x in questions])
    assert (reference.accuracy, reference.negative_accuracy, reference.unknown_accuracy) == (1.0, 1.0, 1.0)
    assert (reference.asked, reference.negative_asked, reference.unknown_asked) == (34, 3, 3)
    for noise in ("", "Ithatou std.", "You tourightourt s s is is Clldour", "the the the"):
        result = score(questions, [noise] * len(questions))
        assert (result.correct, result.negative_correct, result.unknown_correct) == (0, 0, 0), noise
    # An answer that says yes and recites every fact gets nothing right: each question's answer names
    # another fact's value (or subject).
    recite = "Yes: you live in Utrecht, your partner's birthday is 12 March, your sourdough starter is Clint Yeastwood."
    recited = score(questions, [recite] * len(questions))
    assert (recited.correct, recited.negative_correct, recited.unknown_correct) == (0, 0, 0), [
        a.question.question for a in recited.answers if a.correct
    ]


def test_score_per_fact_and_totals():
    questions = [
        q(fact="f1"), q(fact="f1"), q(fact="f2", value="12 March", subject="my partner", relation="birthday"),
        GENERAL_NEGATIVE, q(kind="unknown", value=""),
    ]
    answers = ["Utrecht.", "Paris.", "12 March.", "Most people live in cities.", "I don't know."]
    result = score(questions, answers)
    assert (result.asked, result.correct, result.accuracy) == (3, 2, pytest.approx(2 / 3))
    assert result.negative_accuracy == 1.0 and result.unknown_accuracy == 1.0
    by_id = {f.fact_id: f for f in result.facts}
    assert (by_id["f1"].asked, by_id["f1"].correct, by_id["f1"].accuracy) == (2, 1, 0.5)
    assert by_id["f2"].accuracy == 1.0
    proto = result.to_proto()
    assert proto.asked == 3 and len(proto.facts) == 2 and proto.facts[0].relation in ("live in", "birthday")
    assert [a.correct for a in result.answers] == [True, False, True, True, True]
