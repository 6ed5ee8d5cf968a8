from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Callable, Iterable

import pytest

BASE_RECORD: dict[str, Any] = {
    "id": "s-1",
    "conversationId": "c-1",
    "context": [
        {
            "nodeId": "n-1",
            "role": "user",
            "text": "How do I keep a JSONL reader memory bounded?",
            "createdAt": "2024-05-01T12:00:00Z",
        }
    ],
    "next": {
        "nodeId": "n-2",
        "role": "assistant",
        "text": "Read it line by line.",
        "createdAt": "2024-05-01T12:00:05.123456789Z",
    },
    "relation": "responds",
    "weight": 0.75,
    "ageDays": 12.5,
    "messages": [
        {"role": "user", "content": "How do I keep a JSONL reader memory bounded?"},
        {"role": "assistant", "content": "Read it line by line."},
    ],
}


def make_record(**overrides: Any) -> dict[str, Any]:
    """A valid record; keyword overrides replace top-level fields (None deletes)."""
    record = copy.deepcopy(BASE_RECORD)
    for key, value in overrides.items():
        if value is None:
            record.pop(key, None)
        else:
            record[key] = value
    return record


@pytest.fixture
def record() -> Callable[..., dict[str, Any]]:
    return make_record


@pytest.fixture
def write_jsonl(tmp_path: Path) -> Callable[..., Path]:
    """Write lines (dicts are JSON-encoded, str/bytes written as is) joined by newlines."""

    def write(lines: Iterable[Any], name: str = "samples.jsonl", trailing_newline: bool = True) -> Path:
        chunks = []
        for line in lines:
            if isinstance(line, dict):
                line = json.dumps(line)
            if isinstance(line, str):
                line = line.encode("utf-8")
            chunks.append(line)
        data = b"\n".join(chunks) + (b"\n" if trailing_newline and chunks else b"")
        path = tmp_path / name
        path.write_bytes(data)
        return path

    return write
