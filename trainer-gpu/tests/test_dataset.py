from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from trajectory_trainer.dataset import (
    DatasetError,
    RecordError,
    iter_samples,
    load_samples,
    parse_record,
    summarize,
    to_chat_example,
)

from conftest import make_record


def test_valid_file(write_jsonl, record):
    path = write_jsonl(
        [
            record(),
            record(id="s-2", relation="follows", weight=1),
            record(id="s-3", conversationId="c-2", weight=0.25, ageDays=None),
        ]
    )
    result = load_samples(path)
    assert result.ok and result.errors == [] and result.error_count == 0
    assert [s.id for s in result.samples] == ["s-1", "s-2", "s-3"]
    assert [s.line for s in result.samples] == [1, 2, 3]
    assert all(s.source == str(path) for s in result.samples)

    first = result.samples[0]
    assert first.conversation_id == "c-1"
    assert first.relation == "responds"
    assert first.weight == 0.75 and first.age_days == 12.5
    assert first.context[0].role == "user"
    assert first.context[0].created_at == datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
    # nanoseconds are truncated to microseconds
    assert first.next.created_at == datetime(2024, 5, 1, 12, 0, 5, 123456, tzinfo=timezone.utc)
    assert [m.role for m in first.messages] == ["user", "assistant"]
    assert result.samples[1].weight == 1.0  # JSON integer accepted
    assert result.samples[2].age_days == 0.0  # proto3 JSON omits zero values


def test_blank_lines_crlf_bom_and_no_trailing_newline(write_jsonl, record):
    path = write_jsonl(
        [
            b"\xef\xbb\xbf" + json.dumps(record()).encode(),
            "",
            "   ",
            json.dumps(record(id="s-2")) + "\r",
            "",
            record(id="s-3"),
        ],
        trailing_newline=False,
    )
    result = load_samples(path)
    assert result.errors == []
    assert [(s.id, s.line) for s in result.samples] == [("s-1", 1), ("s-2", 4), ("s-3", 6)]

    with_trailing = write_jsonl([record()], name="t.jsonl")
    assert with_trailing.read_bytes().endswith(b"}\n")
    assert len(load_samples(with_trailing).samples) == 1


def test_malformed_line_in_the_middle(write_jsonl, record):
    path = write_jsonl([record(), '{"id": "s-2", "conversationId":', record(id="s-3")])
    result = load_samples(path)
    assert [s.id for s in result.samples] == ["s-1", "s-3"]
    assert result.error_count == 1
    (err,) = result.errors
    assert isinstance(err, DatasetError)
    assert (err.path, err.line) == (str(path), 2)
    assert str(err).startswith(f"{path}:2: malformed JSON")


def test_strict_raises_on_first_bad_line(write_jsonl, record):
    path = write_jsonl([record(), "not json", record(weight=2)])
    with pytest.raises(DatasetError) as info:
        load_samples(path, strict=True)
    assert info.value.line == 2
    assert f"{path}:2:" in str(info.value)


@pytest.mark.parametrize("weight", [0, 0.0, -0.1, 1.0000001, 1.5, "0.5", True, [0.5]])
def test_weight_out_of_range_or_wrong_type(write_jsonl, record, weight):
    path = write_jsonl([record(id="ok"), record(id="bad", weight=weight)])
    result = load_samples(path)
    assert [s.id for s in result.samples] == ["ok"]
    (err,) = result.errors
    assert err.line == 2
    assert "weight" in err.message


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_rejected(write_jsonl, literal):
    line = json.dumps(make_record()).replace('"weight": 0.75', f'"weight": {literal}')
    result = load_samples(write_jsonl([line]))
    assert result.samples == [] and result.error_count == 1
    assert "malformed JSON" in result.errors[0].message


@pytest.mark.parametrize(
    "missing", ["id", "conversationId", "context", "next", "relation", "weight", "messages"]
)
def test_missing_required_field(write_jsonl, record, missing):
    result = load_samples(write_jsonl([record(**{missing: None})]))
    assert result.samples == []
    (err,) = result.errors
    assert err.message == f"{missing}: missing required field"
    assert str(err).endswith(f":1: {missing}: missing required field")


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"messages": []}, "messages: must not be empty"),
        ({"messages": [{"content": "q"}]}, "messages[0].role: missing required field"),
        ({"context": []}, "context: expected at least one turn"),
        ({"context": [{"nodeId": "n", "role": "bot", "text": "t"}]}, "context[0].role: expected one of"),
        ({"context": [{"nodeId": "n", "role": "user", "text": ""}]}, "context[0].text: must not be empty"),
        ({"next": {"nodeId": "n", "role": "assistant", "text": "x", "createdAt": "yesterday"}},
         "next.createdAt: not an RFC 3339 timestamp"),
        ({"next": {"nodeId": "n", "role": "assistant", "text": "x", "createdAt": "2024-05-01T12:00:00"}},
         "next.createdAt"),
        ({"ageDays": -1}, "ageDays: must be >= 0"),
        ({"id": 7}, "id: expected a string, got a number"),
        ({"relation": ""}, "relation: must not be empty"),
        ({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "other"}]},
         "messages[1].content: the last message must be the target turn"),
    ],
)
def test_invalid_records(write_jsonl, record, overrides, fragment):
    result = load_samples(write_jsonl([record(), record(**overrides)]))
    assert len(result.samples) == 1
    (err,) = result.errors
    assert err.line == 2
    assert fragment in err.message


def test_proto3_json_variants(record):
    # Proto field names instead of camelCase, an omitted empty content, a longer context
    # (BuildDatasetRequest.context_size may exceed the default of 3).
    turn = {"node_id": "n-0", "role": "user", "text": "q", "created_at": "2024-05-01T12:00:00.000Z"}
    raw = record(
        conversationId=None,
        conversation_id="c-9",
        ageDays=None,
        age_days=3,
        context=[turn] * 5,
        messages=[{"role": "system"}, {"role": "assistant", "content": "Read it line by line."}],
    )
    sample = parse_record(raw)
    assert sample.conversation_id == "c-9" and sample.age_days == 3.0
    assert len(sample.context) == 5 and sample.context[0].node_id == "n-0"
    assert sample.context[0].created_at == datetime(2024, 5, 1, 12, tzinfo=timezone.utc)
    assert sample.messages[0].content == ""


def test_top_level_must_be_an_object(write_jsonl):
    result = load_samples(write_jsonl(["[1, 2]", '"text"']))
    assert [e.message for e in result.errors] == [
        "expected a JSON object, got an array",
        "expected a JSON object, got a string",
    ]


def test_optional_created_at_and_unknown_fields(record):
    ctx = [{"nodeId": "n-1", "role": "user", "text": "q"}]  # no createdAt
    sample = parse_record(record(context=ctx, futureField={"x": 1}))
    assert sample.context[0].created_at is None
    with_offset = parse_record(
        record(context=[{**ctx[0], "createdAt": "2024-05-01T14:00:00.5+02:00"}])
    )
    assert with_offset.context[0].created_at == datetime(2024, 5, 1, 12, 0, 0, 500000, tzinfo=timezone.utc)


def test_non_utf8_line(write_jsonl, record):
    bad = json.dumps(record(id="s-2")).encode().replace(b"line by line", b"line \xff line")
    path = write_jsonl([record(), bad, record(id="s-3")])
    result = load_samples(path)
    assert [s.id for s in result.samples] == ["s-1", "s-3"]
    (err,) = result.errors
    assert err.line == 2
    assert str(err).startswith(f"{path}:2: not valid UTF-8 (byte 0xff")

    with pytest.raises(DatasetError, match=r":2: not valid UTF-8"):
        load_samples(path, strict=True)


def test_empty_and_blank_only_files(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    blank = tmp_path / "blank.jsonl"
    blank.write_bytes(b"\n\n  \n")
    for path in (empty, blank):
        result = load_samples(path)
        assert result.samples == [] and result.errors == [] and result.error_count == 0


def test_missing_file_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_samples(tmp_path / "nope.jsonl")


def test_overlong_line_is_skipped_without_stopping(write_jsonl, record):
    path = write_jsonl([record(), record(id="big", relation="x" * 5000), record(id="s-3")])
    result = load_samples(path, max_line_bytes=2000)
    assert [s.id for s in result.samples] == ["s-1", "s-3"]
    assert [s.line for s in result.samples] == [1, 3]
    assert result.errors[0].line == 2
    assert "longer than 2000 bytes" in result.errors[0].message


def test_errors_are_capped_but_counted(write_jsonl, record):
    path = write_jsonl(["x"] * 5 + [record()])
    result = load_samples(path, max_errors=2)
    assert len(result.samples) == 1
    assert [e.line for e in result.errors] == [1, 2]
    assert result.error_count == 5


def test_iter_samples_streams_with_callback(write_jsonl, record):
    path = write_jsonl([record(), "oops", record(id="s-3")])
    seen = []
    stream = iter_samples(path, on_error=seen.append)
    assert next(stream).id == "s-1"
    assert seen == []  # nothing read past the first record yet
    assert [s.id for s in stream] == ["s-3"]
    assert [e.line for e in seen] == [2]


def test_summarize(record):
    samples = [
        parse_record(record(id="a", relation="responds", weight=0.5)),
        parse_record(record(id="b", relation="follows", weight=0.25, conversationId="c-2")),
        parse_record(record(id="c", relation="responds", weight=1)),
    ]
    summary = summarize(iter(samples))
    assert summary.count == 3
    assert summary.conversations == 2
    assert summary.total_weight == 1.75
    assert summary.mean_weight == pytest.approx(1.75 / 3)
    assert summary.relations == {"follows": 1, "responds": 2}
    assert summary.as_dict() == {
        "samples": 3,
        "conversations": 2,
        "totalWeight": 1.75,
        "meanWeight": pytest.approx(1.75 / 3),
        "relations": {"follows": 1, "responds": 2},
    }


def test_summarize_empty_and_accurate_sum(record):
    empty = summarize([])
    assert (empty.count, empty.total_weight, empty.mean_weight, empty.relations) == (0, 0.0, None, {})
    tenths = summarize([parse_record(record(weight=0.1))] * 10)
    assert tenths.total_weight == 1.0  # naive summation gives 0.9999999999999999
    assert math.isclose(tenths.mean_weight, 0.1)


def test_to_chat_example(record):
    sample = parse_record(record())
    example = to_chat_example(sample)
    assert example == {
        "messages": [
            {"role": "user", "content": "How do I keep a JSONL reader memory bounded?"},
            {"role": "assistant", "content": "Read it line by line."},
        ],
        "weight": 0.75,
    }
    assert example["messages"][-1]["content"] == sample.next.text
    assert to_chat_example(record()) == example  # raw JSON objects are validated first


def test_to_chat_example_predicting_the_user(record):
    # A trajectory sample may predict the user's next thought: messages are kept as given.
    raw = record(
        context=[{"nodeId": "n-1", "role": "assistant", "text": "Anything else?"}],
        next={"nodeId": "n-2", "role": "user", "text": "What about retries?"},
        relation="follows",
        messages=[
            {"role": "system", "content": "Predict the user's next message."},
            {"role": "user", "content": "Anything else?"},
            {"role": "assistant", "content": "What about retries?"},
        ],
    )
    example = to_chat_example(parse_record(raw))
    assert [m["role"] for m in example["messages"]] == ["system", "user", "assistant"]
    assert example["messages"][-1]["content"] == "What about retries?"


def test_to_chat_example_rejects_mismatched_target(write_jsonl, record):
    (sample,) = load_samples(write_jsonl([record()])).samples
    broken = replace(sample, next=replace(sample.next, text="something else"))
    with pytest.raises(RecordError, match=r"samples\.jsonl:1: the last message must be the target"):
        to_chat_example(broken)
