"""Recall evaluation on the held-out phrasings of the dataset's facts (never trained on).

Each held-out memory record is asked with its own system prompt, greedily, a few tokens long.
The answer is compared after lower-casing and turning punctuation into spaces (``normalise``;
dates also match as "March 12", "12th March" or "the 12th of March"). Every rule asks for what a
correct answer must contain, so an answer of noise, an empty one, or one that recites every fact
it knows fails:

- ``fact`` records, by what the question asks (the record's ``swap:`` tag):
  - the value ("Where do I live?"): correct when the answer contains the value and no other
    fact's value;
  - the subject given the value ("Who did I say lives in Utrecht?"): correct when it names the
    subject ("you", "your partner", "partner") and no other fact's subject;
  - a confirmation of the true value ("Do I live in Utrecht?"): correct when it affirms (yes,
    that's right, correct, ...), does not deny and names no other fact's value;
  - a confirmation of a wrong value ("Do I live in Paris?"): correct when it denies (no, ...) and
    does not affirm;
- ``negative`` records (general questions, or questions about the assistant itself): correct when
  the answer brings no fact's value in (it must not affirm a personal fact where none was asked)
  and contains what a correct answer does: where the reference answer says the assistant has no
  such thing ("I'm an AI assistant, so I don't have a birthday"), a disclaimer of its own; else a
  content word of the question or of the reference answer (it is on the topic asked);
- ``unknown`` records (facts never given): correct when the answer refuses explicitly (one of
  ``UNKNOWN_PHRASES``) and names no fact's value.

The other facts' values and subjects are those of the questions scored together (``score``).
Per fact: asked, correct and accuracy over its phrasings; in total: ``accuracy`` over all fact
phrasings (``asked`` counts them), ``negative_accuracy`` and ``unknown_accuracy`` over theirs.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .data import MemoryQuestion

__all__ = [
    "UNKNOWN_PHRASES",
    "Known",
    "RecallAnswer",
    "RecallResult",
    "evaluate_recall",
    "is_correct",
    "normalise",
    "score",
]

UNKNOWN_PHRASES = (
    "don t know",
    "do not know",
    "dont know",
    "haven t told me",
    "have not told me",
    "never told me",
    "never mentioned",
    "didn t mention",
    "did not mention",
    "not sure",
    "no idea",
    "can t say",
    "cannot say",
    "don t have that",
    "don t have your",
    "no information",
)
AFFIRMATIONS = ("yes", "yeah", "yep", "correct", "that s right", "that is right", "right", "indeed", "exactly")
NEGATIONS = ("no", "nope", "not")
#: What an assistant says of itself when asked for its own name, home or birthday.
DISCLAIMERS = (
    "ai", "assistant", "language model", "don t have", "do not have", "doesn t have", "not a person",
    "don t live", "do not live", "no personal", "no name", "no birthday", "no home",
)
#: Reference answers that disclaim: the answer must disclaim too.
_DISCLAIMING_REFERENCE = ("ai assistant", "don t have personal", "i don t have", "i don t live")
STOPWORDS = frozenset(
    "about also been being could does doing from have into just know like made make many more most much must "
    "once only other over same should some such than that their them then there these they this those through "
    "very want what when where which while whom whose will with would your yours you".split()
)
MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december",
)
_DATE = re.compile(rf"^(\d{{1,2}}) ({'|'.join(MONTHS)})$")


def normalise(text: str) -> str:
    """Lower case, punctuation and symbols as spaces, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(" " if unicodedata.category(ch)[0] in "PS" else ch for ch in text)
    return " ".join(text.split())


def _answer_form(text: str) -> str:
    """``normalise`` plus dates in one form: "12th of March" and "the 12th March" become "12 march"."""
    norm = normalise(text)
    norm = re.sub(r"\b(\d{1,2})(?:st|nd|rd|th)\b", r"\1", norm)
    months = "|".join(MONTHS)
    norm = re.sub(rf"\b(\d{{1,2}}) of ({months})\b", r"\1 \2", norm)
    return re.sub(rf"\b({months}) (\d{{1,2}})\b", r"\2 \1", norm)


def _contains(haystack: str, needle: str) -> bool:
    needle = _answer_form(needle)
    if not needle:
        return False
    return re.search(rf"(^| ){re.escape(needle)}( |$)", _answer_form(haystack)) is not None


def _starts_with(text: str, words: Sequence[str]) -> bool:
    norm = normalise(text)
    return any(norm == w or norm.startswith(w + " ") for w in words)


def _subject_forms(subject: str) -> list[str]:
    s = normalise(subject)
    if s in ("i", "me", "myself"):
        return ["you", "yourself"]
    forms = [s]
    for own, yours in (("my ", "your "), ("our ", "your ")):
        if s.startswith(own):
            rest = s[len(own):]
            forms += [yours + rest, rest]
    return forms


def _names_subject(answer: str, subject: str) -> bool:
    forms = _subject_forms(subject)
    if forms[0] == "you":
        # "you" opens most answers ("You told me ..."): it names the user when no "your <thing>" follows.
        norm = normalise(answer)
        return re.search(r"(^| )(you|yourself)( |$)", norm) is not None and not re.search(r"(^| )your ", norm)
    return any(_contains(answer, form) for form in forms)


def _content_words(text: str) -> set[str]:
    return {w.rstrip("s") for w in normalise(text).split() if len(w) >= 4 and w not in STOPWORDS and not w.isdigit()}


@dataclass(frozen=True)
class Known:
    """The facts' values and subjects: an answer that names another fact's is wrong."""

    values: frozenset[str] = frozenset()
    subjects: frozenset[str] = frozenset()

    @classmethod
    def of(cls, questions: Iterable[MemoryQuestion]) -> Known:
        facts = [q for q in questions if q.kind == "fact"]
        return cls(frozenset(q.value for q in facts if q.value), frozenset(q.subject for q in facts if q.subject))

    def other_values(self, question: MemoryQuestion) -> list[str]:
        own = _answer_form(question.value) if question.kind == "fact" else None
        return [v for v in self.values if _answer_form(v) != own]


def is_correct(question: MemoryQuestion, answer: str, known: Known | None = None) -> bool:
    """Whether ``answer`` answers ``question`` (rules in the module's docstring)."""
    known = known or Known.of([question])
    if not normalise(answer):
        return False
    names_other_value = any(_contains(answer, v) for v in known.other_values(question))
    if question.kind == "negative":
        if names_other_value or _contains(answer, question.value):
            return False
        if any(p in normalise(question.answer) for p in _DISCLAIMING_REFERENCE):
            return any(_contains(answer, d) for d in DISCLAIMERS)
        return bool(_content_words(answer) & (_content_words(question.question) | _content_words(question.answer)))
    if question.kind == "unknown":
        return not names_other_value and any(_contains(answer, phrase) for phrase in UNKNOWN_PHRASES)
    ask = question.ask
    if ask == "value":
        return _contains(answer, question.value) and not names_other_value
    if ask == "subject":
        others = [s for s in known.subjects if normalise(s) != normalise(question.subject)]
        return _names_subject(answer, question.subject) and not any(_contains(answer, form) for s in others
                                                                     for form in _subject_forms(s) if form != "you")
    affirms = _starts_with(answer, AFFIRMATIONS)
    denies = _starts_with(answer, NEGATIONS)
    if ask == "confirm":
        return affirms and not denies and not names_other_value
    return denies and not affirms  # confirm-false


@dataclass
class RecallAnswer:
    question: MemoryQuestion
    answer: str
    correct: bool


@dataclass
class FactScore:
    fact_id: str
    subject: str
    relation: str
    asked: int = 0
    correct: int = 0

    @property
    def accuracy(self) -> float:
        return self.correct / self.asked if self.asked else 0.0


@dataclass
class RecallResult:
    facts: list[FactScore] = field(default_factory=list)
    asked: int = 0
    correct: int = 0
    negative_asked: int = 0
    negative_correct: int = 0
    unknown_asked: int = 0
    unknown_correct: int = 0
    answers: list[RecallAnswer] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.asked if self.asked else 0.0

    @property
    def negative_accuracy(self) -> float:
        return self.negative_correct / self.negative_asked if self.negative_asked else 0.0

    @property
    def unknown_accuracy(self) -> float:
        return self.unknown_correct / self.unknown_asked if self.unknown_asked else 0.0

    def to_proto(self) -> Any:
        from .contracts import RecallMetrics

        metrics = RecallMetrics(
            accuracy=self.accuracy,
            negative_accuracy=self.negative_accuracy,
            unknown_accuracy=self.unknown_accuracy,
            asked=self.asked,
        )
        for f in self.facts:
            metrics.facts.add(
                fact_id=f.fact_id, subject=f.subject, relation=f.relation,
                asked=f.asked, correct=f.correct, accuracy=f.accuracy,
            )
        return metrics

    def as_dict(self) -> dict[str, Any]:
        return {
            "accuracy": self.accuracy,
            "asked": self.asked,
            "negativeAccuracy": self.negative_accuracy,
            "negativeAsked": self.negative_asked,
            "unknownAccuracy": self.unknown_accuracy,
            "unknownAsked": self.unknown_asked,
            "facts": [
                {"factId": f.fact_id, "subject": f.subject, "relation": f.relation,
                 "asked": f.asked, "correct": f.correct, "accuracy": f.accuracy}
                for f in self.facts
            ],
        }


def score(questions: Sequence[MemoryQuestion], answers: Sequence[str]) -> RecallResult:
    result = RecallResult()
    by_fact: dict[str, FactScore] = {}
    known = Known.of(questions)
    for question, answer in zip(questions, answers, strict=True):
        ok = is_correct(question, answer, known)
        result.answers.append(RecallAnswer(question, answer, ok))
        if question.kind == "fact":
            fact = by_fact.setdefault(
                question.fact_id, FactScore(question.fact_id, question.subject, question.relation)
            )
            fact.asked += 1
            fact.correct += ok
            result.asked += 1
            result.correct += ok
        elif question.kind == "negative":
            result.negative_asked += 1
            result.negative_correct += ok
        else:
            result.unknown_asked += 1
            result.unknown_correct += ok
    result.facts = sorted(by_fact.values(), key=lambda f: (f.subject, f.relation, f.fact_id))
    return result


def generate_answers(
    model: Any, tokenizer: Any, questions: Sequence[MemoryQuestion], max_new_tokens: int = 32, batch_size: int = 8
) -> list[str]:
    """Greedy answers, batched with left padding."""
    import torch
    from transformers import GenerationConfig

    device = next(model.parameters()).device
    # Greedy, whatever sampling the model's own generation_config asks for.
    config = GenerationConfig(
        max_new_tokens=max_new_tokens,
        do_sample=False,
        num_beams=1,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    prompts = [
        tokenizer.apply_chat_template(
            [{"role": "system", "content": q.system}, {"role": "user", "content": q.question}],
            tokenize=False,
            add_generation_prompt=True,
        )
        for q in questions
    ]
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    answers: list[str] = []
    try:
        for start in range(0, len(prompts), batch_size):
            batch = tokenizer(prompts[start : start + batch_size], add_special_tokens=False, return_tensors="pt", padding=True)
            batch = {k: v.to(device) for k, v in batch.items()}
            with torch.no_grad():
                out = model.generate(**batch, generation_config=config)
            new = out[:, batch["input_ids"].shape[1] :]
            answers.extend(tokenizer.batch_decode(new, skip_special_tokens=True))
    finally:
        tokenizer.padding_side = side
    return [a.strip() for a in answers]


def evaluate_recall(
    model: Any, tokenizer: Any, questions: Sequence[MemoryQuestion], max_new_tokens: int = 32, batch_size: int = 8
) -> RecallResult:
    if not questions:
        return RecallResult()
    answers = generate_answers(model, tokenizer, questions, max_new_tokens=max_new_tokens, batch_size=batch_size)
    return score(questions, answers)
