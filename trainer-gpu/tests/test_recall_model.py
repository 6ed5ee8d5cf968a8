"""The recall metric fails a model that knows nothing and passes one that knows the answers.

Both are the tiny CPU model, asked the fixture's 40 held-out questions (34 fact phrasings, 3
negatives, 3 unknowns) through ``evaluate_recall``, as after a job. "Fitted" means trained through
the real loop (run_training) on those very questions and answers, so it answers them as the
references do: that is what a perfect recall looks like to the metric. Whether training on *other*
phrasings generalises to these is a question for a real model (bench/recall_small_model.py).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from conftest import FIXTURE_DATASET
from trajectory_trainer.args import Hyperparameters
from trajectory_trainer.data import load_dataset
from trajectory_trainer.modeling import load_base_model
from trajectory_trainer.recall import RecallResult, evaluate_recall, normalise
from trajectory_trainer.train import TrainJob, run_training

pytestmark = pytest.mark.slow

#: A short system prompt instead of the facts list: the tiny model then fits the answers in seconds.
SYSTEM = "Answer from what I told you."
MAX_NEW_TOKENS = 64


def overall(result: RecallResult) -> float:
    correct = result.correct + result.negative_correct + result.unknown_correct
    return correct / (result.asked + result.negative_asked + result.unknown_asked)


def heldout_dataset(folder: Path) -> Path:
    """The held-out questions with their reference answers as training rows (and as the recall set)."""
    folder.mkdir(parents=True)
    records, rows = [], []
    for line in (FIXTURE_DATASET / "records.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record["type"] != "memory" or record["split"] != "heldout":
            continue
        records.append({**record, "system": SYSTEM})
        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": record["question"]},
                    {"role": "assistant", "content": record["answer"]}]
        rows.append({"messages": messages, "weight": 1.0, "id": f"fit-{record['id']}"})
    (folder / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (folder / "sft.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


def test_an_untrained_model_scores_near_zero():
    hp = Hyperparameters(base_model="tiny-random-qwen2")
    loaded = load_base_model(hp, for_training=False)
    questions = [dataclasses.replace(q, system=SYSTEM) for q in load_dataset(FIXTURE_DATASET).heldout]
    result = evaluate_recall(loaded.model.eval(), loaded.tokenizer, questions, max_new_tokens=MAX_NEW_TOKENS)
    assert (result.asked, result.negative_asked, result.unknown_asked) == (34, 3, 3)
    # Its noise mentions no fact's value: the old rule counted that as 3/3 negatives.
    assert result.negative_correct == 0 and result.unknown_correct == 0
    assert overall(result) <= 0.05, [a.answer for a in result.answers]


def test_a_model_fitted_on_the_facts_scores_high(tmp_path):
    dataset = heldout_dataset(tmp_path / "dataset")
    hp = Hyperparameters(base_model="tiny-random-qwen2", lora_r=16, lora_alpha=32, lora_dropout=0.0,
                         learning_rate=1e-2, warmup_ratio=0.05, batch_size=8, gradient_accumulation_steps=1,
                         max_steps=400, save_steps=1000, disable_gradient_checkpointing=True)
    job = TrainJob("recall-fit", dataset, tmp_path / "adapter", tmp_path / "checkpoints", hp,
                   recall_max_new_tokens=MAX_NEW_TOKENS)
    result = run_training(job).recall
    assert result is not None and result.asked == 34
    answers = [(a.question.question, a.answer, a.correct) for a in result.answers]
    assert result.accuracy >= 0.9 and overall(result) >= 0.85, answers
    assert all(f.accuracy >= 0.75 for f in result.facts)
    # Where it gives the reference answer word for word (all but a few of the long negatives and
    # unknowns, which 400 steps do not fit), the metric agrees.
    exact = [a for a in result.answers if normalise(a.answer) == normalise(a.question.answer)]
    assert len(exact) >= 30 and all(a.correct for a in exact), answers
