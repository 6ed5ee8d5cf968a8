"""The trainer checks records.jsonl against the JSON Schemas the samples service validates with
(packages/samples/schemas): the same files, and the same verdicts."""

from __future__ import annotations

import json

import pytest

from conftest import FIXTURE_DATASET, REPO, missing, node_json
from trajectory_trainer.data import SCHEMA_DIR, record_error, record_validators

SAMPLES = REPO / "packages" / "samples"
SOURCE = SAMPLES / "schemas"


def test_the_package_schemas_are_the_samples_schemas():
    if not SOURCE.is_dir():
        missing("packages/samples/schemas is not in this checkout")
    # A link in a checkout (an editable install); a wheel holds a copy of the same bytes.
    if SCHEMA_DIR.is_symlink():
        assert SCHEMA_DIR.resolve() == SOURCE.resolve()
    names = sorted(p.name for p in SOURCE.glob("*.schema.json"))
    assert sorted(p.name for p in SCHEMA_DIR.glob("*.schema.json")) == names
    for name in names:
        assert (SCHEMA_DIR / name).read_bytes() == (SOURCE / name).read_bytes(), name
    # No record type of the trainer's own: one validator per file.
    assert sorted(record_validators()) == [name.removesuffix(".schema.json") for name in names]


def cases() -> tuple[list[dict], list[dict]]:
    """Records that pass (the fixture's, and one of each type it lacks) and records that do not."""
    records = [json.loads(line) for line in (FIXTURE_DATASET / "records.jsonl").read_text().splitlines() if line.strip()]
    first = {r["type"]: r for r in reversed(records)}
    chat, memory, trajectory = first["chat"], first["memory"], first["trajectory"]
    graph = trajectory["source"]
    base = {"id": "x1", "weight": 1.0, "source": graph, "split": "train"}
    qa = {**base, "type": "qa", "question": "What is 2+2?", "answer": "4"}
    preference = {**base, "type": "preference", "prompt": "Which?", "chosen": "this one", "rejected": "that one"}
    valid = [
        *records,
        qa,
        preference,
        {**qa, "source": {"factId": "f1"}, "tags": []},
        {**memory, "kind": "unknown", "value": ""},
        {**trajectory, "next": {**trajectory["next"], "createdAt": "2026-01-02T03:04:05Z"}},
    ]
    without_type = {k: v for k, v in qa.items() if k != "type"}
    invalid = [
        {**qa, "source": {"conversationId": "c"}},
        {**qa, "source": {"factId": "f1", "conversationId": "c", "nodeIds": ["n"]}},
        {**qa, "source": {"conversationId": "c", "nodeIds": []}},
        {**qa, "extra": 1},
        {**qa, "type": "poem"},
        without_type,
        {**qa, "weight": -1},
        {**qa, "weight": "1"},
        {**qa, "split": "test"},
        {**preference, "chosen": ""},
        {**memory, "kind": "fact", "value": ""},
        {**memory, "kind": "maybe"},
        {**memory, "source": graph},
        {**trajectory, "source": {"factId": "f1"}},
        {**trajectory, "ageDays": -2},
        {**trajectory, "next": {"role": "user", "text": "x"}},
        {**trajectory, "context": []},
        {**chat, "input": "hello"},
        {**chat, "input": "User: a\nAssistant: b\nUser: c\nAssistant: d"},
        {**chat, "output": ""},
    ]
    return valid, invalid


def test_records_are_judged_by_their_schema():
    valid, invalid = cases()
    assert [record_error(r) for r in valid] == [None] * len(valid)
    problems = [record_error(r) for r in invalid]
    assert all(problems), [json.dumps(r)[:80] for r, p in zip(invalid, problems, strict=True) if not p]
    assert problems[0] == "qa record /source: 'nodeIds' is a required property"
    assert problems[4] == '/type must be one of chat, knowledge, memory, preference, qa, trajectory (got "poem")'
    assert problems[5] == "/type is required"
    assert problems[10] == "memory record /value: '' should be non-empty"
    assert problems[17].startswith("chat record /input must be 1 to 3 previous turns")


def test_typescript_and_python_give_the_same_verdicts():
    """The built @trajectory/samples' validateRecord (Ajv) on the same records."""
    valid, invalid = cases()
    records = valid + invalid
    script = (
        "const { validateRecord } = await import(process.argv[1]);"
        "let text = ''; for await (const chunk of process.stdin) text += chunk;"
        "console.log(JSON.stringify(JSON.parse(text).map((r) => validateRecord(r).valid)));"
    )
    ts = node_json(
        script,
        SAMPLES / "dist" / "validate.js",
        stdin=json.dumps(records),
        what="the built samples package (packages/samples/dist)",
    )
    assert ts == [True] * len(valid) + [False] * len(invalid)
    assert [record_error(r) is None for r in records] == ts


@pytest.mark.parametrize("broken", ["memory", "chat"])
def test_a_record_that_fails_its_schema_stops_the_load(fixture_dataset, broken):
    from trajectory_trainer.data import DatasetError, load_dataset

    path = fixture_dataset / "records.jsonl"
    lines = path.read_text().splitlines()
    number = next(i for i, line in enumerate(lines, start=1) if json.loads(line)["type"] == broken)
    record = json.loads(lines[number - 1])
    # A held-out memory record is what the trainer reads; a chat record it does not read is checked too.
    record.pop("answer" if broken == "memory" else "output")
    lines[number - 1] = json.dumps(record)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError) as info:
        load_dataset(fixture_dataset)
    assert info.value.line == number
    field = "answer" if broken == "memory" else "output"
    assert str(info.value) == f"{path}:{number}: {broken} record /: '{field}' is a required property"
