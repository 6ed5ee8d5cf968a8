"""Recall evaluation on the held-out phrasings of the dataset's facts (never trained on).

Each held-out memory record is asked with its own system prompt, greedily, a few tokens long.
The answer is compared after lower-casing and turning punctuation into spaces:

- ``fact`` records, by what the question asks (the record's ``swap:`` tag):
  - the value ("Where do I live?"): correct when the answer contains the value;
  - the subject given the value ("Who did I say lives in Utrecht?"): correct when it names the
    subject ("you", "your partner", "partner") or the value;
  - a confirmation of the true value ("Do I live in Utrecht?"): correct when it affirms (yes,
    that's right, correct, ...) or contains the value, and does not start with no;
  - a confirmation of a wrong value ("Do I live in Paris?"): correct when it starts with no or
    contains the true value, and does not affirm;
- ``negative`` records (general questions): correct when the fact's value is *not* mentioned;
- ``unknown`` records (facts never given): correct when the answer says it does not know
  (one of ``UNKNOWN_PHRASES``).

Per fact: asked, correct and accuracy over its phrasings; in total: ``accuracy`` over all fact
phrasings (``asked`` counts them), ``negative_accuracy`` and ``unknown_accuracy`` over theirs.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Sequence

from .data import MemoryQuestion

__all__ = [
    "UNKNOWN_PHRASES",
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


def normalise(text: str) -> str:
    """Lower case, punctuation and symbols as spaces, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(" " if unicodedata.category(ch)[0] in "PS" else ch for ch in text)
    return " ".join(text.split())


def _contains(haystack: str, needle: str) -> bool:
    needle = normalise(needle)
    if not needle:
        return False
    return re.search(rf"(^| ){re.escape(needle)}( |$)", normalise(haystack)) is not None


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


def is_correct(question: MemoryQuestion, answer: str) -> bool:
    if question.kind == "negative":
        return not _contains(answer, question.value)
    if question.kind == "unknown":
        norm = normalise(answer)
        return any(_contains(norm, phrase) for phrase in UNKNOWN_PHRASES)
    ask = question.ask
    mentions = _contains(answer, question.value)
    if ask == "value":
        return mentions
    if ask == "subject":
        return mentions or any(_contains(answer, form) for form in _subject_forms(question.subject))
    affirms = _starts_with(answer, AFFIRMATIONS)
    denies = _starts_with(answer, NEGATIONS)
    if ask == "confirm":
        return (affirms or mentions) and not denies
    return (denies or mentions) and not affirms  # confirm-false


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
    for question, answer in zip(questions, answers, strict=True):
        ok = is_correct(question, answer)
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
