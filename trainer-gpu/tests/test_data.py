from __future__ import annotations

import json

import pytest

from trajectory_trainer.data import DatasetError, load_dataset


def test_reads_the_fixture_dataset(fixture_dataset):
    data = load_dataset(fixture_dataset / "records.jsonl")  # the records file names its folder
    assert data.dir == fixture_dataset
    assert len(data.train) == 27 and len(data.eval) == 8 and data.records == 75
    assert {e.type for e in data.train} == {"memory", "chat", "knowledge", "trajectory"}
    assert all(e.messages[-1]["role"] == "assistant" for e in data.train)
    assert any(e.weight > 1 for e in data.train) and any(e.weight < 1 for e in data.train)
    kinds = {q.kind for q in data.heldout}
    assert kinds == {"fact", "negative", "unknown"}
    assert len({q.fact_id for q in data.heldout if q.kind == "fact"}) == 3
    held = {q.question for q in data.heldout}
    trained = {m["content"] for e in data.train for m in e.messages if m["role"] == "user"}
    assert not held & trained  # never trained on
    asks = {q.ask for q in data.heldout if q.kind == "fact"}
    assert "value" in asks
    summary = data.summary()
    assert summary["train"] == 27 and summary["heldout"] == {"fact": 34, "negative": 3, "unknown": 3}
    assert data.fingerprint and load_dataset(fixture_dataset).fingerprint == data.fingerprint


def write(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))


ROW = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], "weight": 1.0, "id": "r1"}


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("{oops", "malformed JSON"),
        ({**ROW, "weight": -1}, "weight: must be a finite number >= 0"),
        ({**ROW, "weight": "1"}, "weight: must be a finite number >= 0"),
        ({**ROW, "messages": []}, "messages: expected a non-empty list"),
        ({**ROW, "messages": [{"role": "bot", "content": "x"}]}, "messages[0].role"),
        ({**ROW, "messages": [{"role": "user", "content": "q"}]}, "no assistant message"),
        ('{"weight": NaN, "messages": []}', "malformed JSON"),
    ],
)
def test_errors_name_file_and_line(tmp_path, bad, message):
    write(tmp_path / "sft.jsonl", [ROW, bad])
    with pytest.raises(DatasetError) as info:
        load_dataset(tmp_path)
    assert info.value.line == 2
    assert str(info.value).startswith(f"{tmp_path / 'sft.jsonl'}:2: ")
    assert message in str(info.value)


def test_weight_zero_and_integers_are_fine(tmp_path):
    write(tmp_path / "sft.jsonl", [{**ROW, "weight": 0}, {**ROW, "weight": 2}])
    data = load_dataset(tmp_path)
    assert [e.weight for e in data.train] == [0.0, 2.0]


def test_missing_export_and_empty_file(tmp_path):
    with pytest.raises(DatasetError, match="no SFT export"):
        load_dataset(tmp_path)
    (tmp_path / "sft.jsonl").write_text("\n")
    with pytest.raises(DatasetError, match="no training example"):
        load_dataset(tmp_path)


def test_a_heldout_record_in_the_training_export_is_refused(fixture_dataset):
    data = load_dataset(fixture_dataset)
    leaked = data.heldout[0]
    with (fixture_dataset / "sft.jsonl").open("a") as handle:
        row = {"messages": [{"role": "user", "content": leaked.question}, {"role": "assistant", "content": leaked.answer}],
               "weight": 1.0, "id": leaked.id}
        handle.write(json.dumps(row) + "\n")
    with pytest.raises(DatasetError, match="held out for the recall eval"):
        load_dataset(fixture_dataset)
