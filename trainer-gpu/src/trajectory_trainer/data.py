"""A dataset version as the samples service writes it (docs/datasets.md).

- ``sft.jsonl`` (train split): ``{"messages": [...], "weight": <float>, "id": ..., "type": ...}``,
  one conversation per line, system message first when there is one, ending with assistant. The
  weight goes into the loss (loss.py); TRL's SFTTrainer would silently drop it.
- ``sft.eval.jsonl`` (eval split, optional): the same rows, for the eval loss.
- ``records.jsonl``: every record, each checked against the JSON Schema of its type: the files in
  packages/samples/schemas that the samples service validates with (``schemas`` next to this module
  links to that folder; a wheel holds a copy). The ``memory`` records with ``split: heldout`` are
  the recall evaluation's questions. They are never trained on: they reach no export, and an sft
  row with a held-out record's id is refused here too.

Errors name the file and the line: ``sft.jsonl:12: weight: must be a finite number >= 0``,
``records.jsonl:3: memory record /value: '' should be non-empty``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

__all__ = [
    "DatasetError",
    "MemoryQuestion",
    "SCHEMA_DIR",
    "SftExample",
    "TrainingData",
    "dataset_dir_of",
    "load_dataset",
    "read_heldout",
    "read_sft",
    "record_error",
    "record_validators",
]

ROLES = ("system", "user", "assistant")

#: packages/samples/schemas, through the link next to this module (or its copy in a wheel).
SCHEMA_DIR = Path(__file__).with_name("schemas")


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


@functools.cache
def record_validators() -> dict[str, Draft202012Validator]:
    """One validator per record type, keyed by type: ``<type>.schema.json`` in SCHEMA_DIR."""
    files = sorted(SCHEMA_DIR.glob("*.schema.json"))
    if not files:
        raise RuntimeError(
            f"no record schemas in {SCHEMA_DIR}: it links to packages/samples/schemas, so install the trainer "
            "from a checkout that has that folder (a wheel takes a copy)"
        )
    validators = {}
    for file in files:
        schema = json.loads(file.read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
        validators[file.name.removesuffix(".schema.json")] = Draft202012Validator(schema)
    return validators


def _closest(error: ValidationError) -> ValidationError:
    """Of an anyOf that failed (a record's source: graph lineage or a fact), an error of the branch
    closest to passing (fewest errors; the first on a tie), as the samples service reports it."""
    while error.validator in ("anyOf", "oneOf") and error.context:
        branches: dict[int, list[ValidationError]] = {}
        for e in error.context:
            branches.setdefault(int(e.relative_schema_path[0]), []).append(e)
        _, errors = min(branches.items(), key=lambda item: (len(item[1]), item[0]))
        error = best_match(errors) or errors[0]
    return error


def _describe(error: ValidationError) -> str:
    error = _closest(error)
    where = "".join(f"/{part}" for part in error.absolute_path) or "/"
    description = error.schema.get("description") if isinstance(error.schema, dict) else None
    if error.validator == "pattern" and isinstance(description, str):
        # A pattern says little to a reader (and the instance may be long): its description says it.
        return f"{where} must be {description}"
    message = error.message if len(error.message) <= 200 else f"{error.message[:200]}..."
    return f"{where}: {message}"


def record_error(record: dict[str, Any]) -> str | None:
    """What is wrong with a record by the schema of its type, or None (the first problem only)."""
    validators = record_validators()
    kind = record.get("type")
    if kind is None:
        return "/type is required"
    validator = validators.get(kind) if isinstance(kind, str) else None
    if validator is None:
        return f"/type must be one of {', '.join(validators)} (got {json.dumps(kind)})"
    error = best_match(validator.iter_errors(record))
    return None if error is None else f"{kind} record {_describe(error)}"


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
    """The held-out memory records of records.jsonl, and the number of records; every record must
    pass the schema of its type."""
    questions: list[MemoryQuestion] = []
    count = 0
    for line, obj in _lines(path):
        count += 1
        problem = record_error(obj)
        if problem is not None:
            raise DatasetError(path, line, problem)
        if obj["type"] != "memory" or obj["split"] != "heldout":
            continue
        # The schema guarantees every field read here (value is empty only for kind unknown).
        questions.append(
            MemoryQuestion(
                id=obj["id"],
                fact_id=obj["source"]["factId"],
                subject=obj["subject"],
                relation=obj["relation"],
                value=obj["value"],
                question=obj["question"],
                answer=obj["answer"],
                kind=obj["kind"],
                system=obj["system"],
                tags=tuple(obj.get("tags", ())),
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
