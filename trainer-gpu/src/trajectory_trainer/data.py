"""A dataset version as the samples service writes it (docs/datasets.md).

- ``sft.jsonl`` (train split): ``{"messages": [...], "weight": <float>, "id": ..., "type": ...}``,
  one conversation per line, system message first when there is one, ending with assistant. The
  weight goes into the loss (loss.py); TRL's SFTTrainer would silently drop it.
- ``sft.eval.jsonl`` (eval split, optional): the same rows, for the eval loss.
- ``records.jsonl``: every record; the ``memory`` records with ``split: heldout`` are the recall
  evaluation's questions. They are never trained on: they reach no export, and an sft row with a
  held-out record's id is refused here too.

Errors name the file and the line: ``sft.jsonl:12: weight: must be a finite number >= 0``.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "DatasetError",
    "MemoryQuestion",
    "SftExample",
    "TrainingData",
    "dataset_dir_of",
    "load_dataset",
    "read_heldout",
    "read_sft",
]

ROLES = ("system", "user", "assistant")
MEMORY_KINDS = ("fact", "negative", "unknown")


class DatasetError(ValueError):
    """A dataset file that cannot be trained on; ``path:line: message``."""

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class SftExample:
    id: str
    type: str
    messages: tuple[dict[str, str], ...]
    weight: float
    line: int = 0


@dataclass(frozen=True)
class MemoryQuestion:
    """A held-out memory record: a question the recall evaluation asks."""

    id: str
    fact_id: str
    subject: str
    relation: str
    value: str
    question: str
    answer: str
    kind: str  # fact | negative | unknown
    system: str
    tags: tuple[str, ...] = ()

    @property
    def ask(self) -> str:
        """What a fact question asks: value, subject, confirm or confirm-false."""
        swap = next((t.split(":", 1)[1] for t in self.tags if t.startswith("swap:")), "none")
        if swap == "none":
            return "value"
        if swap == "subject":
            return "subject"
        # The generator's confirm-false answers deny ("No, ..."); confirm answers affirm.
        return "confirm-false" if self.answer.lower().startswith("no") else "confirm"


@dataclass
class TrainingData:
    dir: Path
    train: list[SftExample]
    eval: list[SftExample]
    heldout: list[MemoryQuestion]
    records: int
    #: sha256 over the files read: a checkpoint only resumes on the same data.
    fingerprint: str = ""
    files: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        kinds: dict[str, int] = {}
        for q in self.heldout:
            kinds[q.kind] = kinds.get(q.kind, 0) + 1
        types: dict[str, int] = {}
        for e in self.train:
            types[e.type] = types.get(e.type, 0) + 1
        total = math.fsum(e.weight for e in self.train)
        return {
            "dataset": str(self.dir),
            "records": self.records,
            "train": len(self.train),
            "eval": len(self.eval),
            "trainByType": dict(sorted(types.items())),
            "totalWeight": total,
            "meanWeight": total / len(self.train) if self.train else None,
            "zeroWeight": sum(1 for e in self.train if e.weight == 0),
            "heldout": dict(sorted(kinds.items())),
            "facts": len({q.fact_id for q in self.heldout if q.kind == "fact"}),
        }


def dataset_dir_of(path: str | Path) -> Path:
    """The version folder: the path itself, or the folder of a records.jsonl / sft.jsonl given."""
    p = Path(path)
    return p.parent if p.is_file() else p


def _lines(path: Path) -> Iterator[tuple[int, Any]]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            raw = raw.strip()
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if not raw:
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise DatasetError(path, number, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x})") from None
            try:
                value = json.loads(text, parse_constant=_reject_constant)
            except ValueError as exc:
                raise DatasetError(path, number, f"malformed JSON: {exc}") from None
            if not isinstance(value, dict):
                raise DatasetError(path, number, f"expected a JSON object, got {type(value).__name__}")
            yield number, value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _string(path: Path, line: int, obj: dict, key: str, *, required: bool = True, allow_empty: bool = False) -> str:
    value = obj.get(key)
    if value is None:
        if required:
            raise DatasetError(path, line, f"{key}: missing required field")
        return ""
    if not isinstance(value, str):
        raise DatasetError(path, line, f"{key}: expected a string")
    if not value and not allow_empty:
        raise DatasetError(path, line, f"{key}: must not be empty")
    return value


def read_sft(path: Path) -> list[SftExample]:
    examples: list[SftExample] = []
    for line, obj in _lines(path):
        messages = obj.get("messages")
        if not isinstance(messages, list) or not messages:
            raise DatasetError(path, line, "messages: expected a non-empty list")
        parsed = []
        for i, m in enumerate(messages):
            if not isinstance(m, dict):
                raise DatasetError(path, line, f"messages[{i}]: expected an object")
            role = m.get("role")
            if role not in ROLES:
                raise DatasetError(path, line, f"messages[{i}].role: expected one of {', '.join(ROLES)}, got {role!r}")
            content = m.get("content", "")
            if not isinstance(content, str):
                raise DatasetError(path, line, f"messages[{i}].content: expected a string")
            parsed.append({"role": role, "content": content})
        if not any(m["role"] == "assistant" for m in parsed):
            raise DatasetError(path, line, "messages: no assistant message to train on")
        weight = obj.get("weight")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight) or weight < 0:
            raise DatasetError(path, line, f"weight: must be a finite number >= 0, got {weight!r}")
        examples.append(
            SftExample(
                id=str(obj.get("id") or f"{path.name}:{line}"),
                type=str(obj.get("type") or ""),
                messages=tuple(parsed),
                weight=float(weight),
                line=line,
            )
        )
    return examples


def read_heldout(path: Path) -> tuple[list[MemoryQuestion], int]:
    """The held-out memory records of records.jsonl, and the number of records."""
    questions: list[MemoryQuestion] = []
    count = 0
    for line, obj in _lines(path):
        count += 1
        if obj.get("type") != "memory" or obj.get("split") != "heldout":
            continue
        kind = _string(path, line, obj, "kind")
        if kind not in MEMORY_KINDS:
            raise DatasetError(path, line, f"kind: expected one of {', '.join(MEMORY_KINDS)}, got {kind!r}")
        source = obj.get("source") if isinstance(obj.get("source"), dict) else {}
        tags = obj.get("tags") or []
        questions.append(
            MemoryQuestion(
                id=_string(path, line, obj, "id"),
                fact_id=str(source.get("factId") or ""),
                subject=_string(path, line, obj, "subject"),
                relation=_string(path, line, obj, "relation"),
                value=_string(path, line, obj, "value", allow_empty=kind == "unknown"),
                question=_string(path, line, obj, "question"),
                answer=_string(path, line, obj, "answer"),
                kind=kind,
                system=_string(path, line, obj, "system"),
                tags=tuple(t for t in tags if isinstance(t, str)),
            )
        )
    return questions, count


def load_dataset(path: str | Path) -> TrainingData:
    """Reads a dataset version folder (or its records.jsonl); sft.jsonl is required."""
    folder = dataset_dir_of(path)
    sft_path = folder / "sft.jsonl"
    if not folder.is_dir():
        raise DatasetError(folder, None, "dataset folder not found")
    if not sft_path.is_file():
        raise DatasetError(sft_path, None, "not found: the dataset version has no SFT export")
    digest = hashlib.sha256()
    files = []
    train = read_sft(sft_path)
    eval_path = folder / "sft.eval.jsonl"
    evaluation = read_sft(eval_path) if eval_path.is_file() else []
    records_path = folder / "records.jsonl"
    heldout, count = read_heldout(records_path) if records_path.is_file() else ([], 0)
    for p in (sft_path, eval_path, records_path):
        if p.is_file():
            files.append(p.name)
            digest.update(p.name.encode() + b"\0")
            with p.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    held_ids = {q.id for q in heldout}
    leaked = [e for e in train if e.id in held_ids]
    if leaked:
        raise DatasetError(
            sft_path, leaked[0].line, f"record {leaked[0].id} is held out for the recall eval but is in the training export"
        )
    if not train:
        raise DatasetError(sft_path, None, "no training example")
    return TrainingData(
        dir=folder, train=train, eval=evaluation, heldout=heldout, records=count,
        fingerprint=digest.hexdigest(), files=files,
    )
