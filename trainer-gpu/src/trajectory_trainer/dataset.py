"""Reading and validating the samples dataset (JSONL) written by the samples service.

Each line is one sample in proto3 JSON (camelCase field names)::

    {"id": "...", "conversationId": "...",
     "context": [{"nodeId": "...", "role": "user", "text": "...",
                  "createdAt": "2024-05-01T12:00:00Z"}],
     "next": {"nodeId": "...", "role": "assistant", "text": "..."},
     "relation": "responds", "weight": 0.8, "ageDays": 12.5,
     "messages": [{"role": "user", "content": "..."},
                  {"role": "assistant", "content": "..."}]}

The file is read line by line in binary mode, so memory stays bounded by the
longest line (capped by ``max_line_bytes``) whatever the size of the file. A
bad line becomes a :class:`DatasetError` naming the file and the line number;
by default such errors are collected and the remaining lines still go through,
with ``strict=True`` the first one is raised.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Iterator, Mapping

__all__ = [
    "CONTEXT_ROLES",
    "DEFAULT_MAX_LINE_BYTES",
    "DatasetError",
    "DatasetSummary",
    "LoadResult",
    "Message",
    "RecordError",
    "Sample",
    "Turn",
    "iter_samples",
    "load_samples",
    "parse_record",
    "summarize",
    "to_chat_example",
]

#: Roles a context/next turn may carry (the graph node's author).
CONTEXT_ROLES = frozenset({"user", "assistant", "system", "tool"})
#: proto3 JSON parsers accept the original (snake_case) field names too.
_PROTO_NAMES = {
    "conversationId": "conversation_id",
    "nodeId": "node_id",
    "createdAt": "created_at",
    "ageDays": "age_days",
}
#: Longer lines are reported as errors without being held in memory.
DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024
#: How many errors a :class:`LoadResult` keeps (all of them are counted).
DEFAULT_MAX_ERRORS = 1000

_UTF8_BOM = b"\xef\xbb\xbf"


# --------------------------------------------------------------------------- errors


class RecordError(ValueError):
    """A JSON object is not a valid sample. ``field`` is a path such as ``context[1].role``."""

    def __init__(self, field: str | None, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}" if field else message)


class DatasetError(ValueError):
    """One bad line of a dataset file: ``str(err)`` reads ``path:line: message``."""

    def __init__(self, path: str, line: int, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message
        super().__init__(f"{path}:{line}: {message}")


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Turn:
    """A graph node as it appears in ``context`` and ``next``."""

    node_id: str
    role: str
    text: str
    created_at: datetime | None = None


@dataclass(frozen=True)
class Message:
    """A chat message, ready for a chat template."""

    role: str
    content: str


@dataclass(frozen=True)
class Sample:
    """One validated training sample. ``source``/``line`` say where it was read from."""

    id: str
    conversation_id: str
    context: tuple[Turn, ...]
    next: Turn
    relation: str
    weight: float
    age_days: float
    messages: tuple[Message, ...]
    source: str | None = field(default=None, compare=False)
    line: int | None = field(default=None, compare=False)

    @property
    def location(self) -> str:
        """``path:line`` when known, else the sample id."""
        if self.source is not None and self.line is not None:
            return f"{self.source}:{self.line}"
        return f"sample {self.id!r}"


_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})"
)


def _parse_rfc3339(value: str) -> datetime:
    """Parse an RFC 3339 timestamp (any number of fractional digits, offset required)."""
    m = _RFC3339.fullmatch(value)
    if not m:
        raise ValueError("not an RFC 3339 timestamp")
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    frac, offset = m.group(7), m.group(8)
    micros = int((frac or "0")[:6].ljust(6, "0"))
    if offset in ("Z", "z"):
        tz = timezone.utc
    else:
        sign = 1 if offset[0] == "+" else -1
        oh, om = int(offset[1:3]), int(offset[4:6])
        if oh > 23 or om > 59:
            raise ValueError("offset out of range")
        tz = timezone(sign * timedelta(hours=oh, minutes=om))
    return datetime(year, month, day, hour, minute, second, micros, tzinfo=tz)


def _get(obj: Mapping[str, Any], key: str) -> Any:
    """``obj[key]`` under its camelCase or proto name; None when absent or null."""
    value = obj.get(key)
    if value is None and key in _PROTO_NAMES:
        value = obj.get(_PROTO_NAMES[key])
    return value


def _require(obj: Mapping[str, Any], key: str, where: str) -> Any:
    value = _get(obj, key)
    if value is None:
        raise RecordError(where + key, "missing required field")
    return value


def _string(obj: Mapping[str, Any], key: str, where: str, *, allow_empty: bool = False) -> str:
    value = _require(obj, key, where)
    if not isinstance(value, str):
        raise RecordError(where + key, f"expected a string, got {_kind(value)}")
    if not allow_empty and not value:
        raise RecordError(where + key, "must not be empty")
    return value


def _number(obj: Mapping[str, Any], key: str, where: str) -> float:
    value = _require(obj, key, where)
    # bool is a subclass of int in Python; JSON true/false is not a number.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RecordError(where + key, f"expected a number, got {_kind(value)}")
    value = float(value)
    if not math.isfinite(value):
        raise RecordError(where + key, "must be a finite number")
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _turn(value: Any, where: str) -> Turn:
    if not isinstance(value, dict):
        raise RecordError(where, f"expected an object, got {_kind(value)}")
    prefix = where + "."
    node_id = _string(value, "nodeId", prefix)
    role = _string(value, "role", prefix)
    if role not in CONTEXT_ROLES:
        raise RecordError(
            prefix + "role", f"expected one of {', '.join(sorted(CONTEXT_ROLES))}, got {role!r}"
        )
    text = _string(value, "text", prefix)
    created_at = None
    raw_created = _get(value, "createdAt")
    if raw_created is not None:  # absent (or null) when unknown
        if not isinstance(raw_created, str):
            raise RecordError(prefix + "createdAt", f"expected a string, got {_kind(raw_created)}")
        try:
            created_at = _parse_rfc3339(raw_created)
        except ValueError as exc:
            raise RecordError(prefix + "createdAt", f"{exc}: {raw_created!r}") from None
    return Turn(node_id=node_id, role=role, text=text, created_at=created_at)


def _check_target(messages: tuple[Message, ...], next_turn: Turn) -> None:
    if messages[-1].content != next_turn.text:
        raise RecordError(
            f"messages[{len(messages) - 1}].content",
            "the last message must be the target turn: its content differs from next.text",
        )


def parse_record(obj: Any, *, source: str | None = None, line: int | None = None) -> Sample:
    """Validate one decoded JSON object and return it as a :class:`Sample`.

    Raises :class:`RecordError` naming the offending field. Unknown fields are
    ignored (forward compatibility, as proto3 JSON parsers do) and the proto
    field names (``conversation_id``...) are accepted as well as camelCase.
    Fields whose zero value is valid may be absent, since proto3 JSON omits
    zero values: ``ageDays`` (0) and a message's ``content`` (""); so may
    ``createdAt`` when unknown. The last message must be the
    target: its content must equal ``next.text`` (its role is kept as given,
    since a sample may predict the user's next thought). ``source``/``line``
    are recorded on the sample for error messages.
    """
    if not isinstance(obj, dict):
        raise RecordError(None, f"expected a JSON object, got {_kind(obj)}")

    sample_id = _string(obj, "id", "")
    conversation_id = _string(obj, "conversationId", "")

    raw_context = _require(obj, "context", "")
    if not isinstance(raw_context, list):
        raise RecordError("context", f"expected an array, got {_kind(raw_context)}")
    if not raw_context:
        # The service writes 1 to BuildDatasetRequest.context_size (default 3) turns.
        raise RecordError("context", "expected at least one turn")
    context = tuple(_turn(item, f"context[{i}]") for i, item in enumerate(raw_context))

    next_turn = _turn(_require(obj, "next", ""), "next")
    relation = _string(obj, "relation", "")

    weight = _number(obj, "weight", "")
    if not 0.0 < weight <= 1.0:
        raise RecordError("weight", f"must be in (0, 1], got {weight!r}")

    age_days = _number(obj, "ageDays", "") if _get(obj, "ageDays") is not None else 0.0
    if age_days < 0.0:
        raise RecordError("ageDays", f"must be >= 0, got {age_days!r}")

    raw_messages = _require(obj, "messages", "")
    if not isinstance(raw_messages, list):
        raise RecordError("messages", f"expected an array, got {_kind(raw_messages)}")
    if not raw_messages:
        raise RecordError("messages", "must not be empty")
    messages = []
    for i, item in enumerate(raw_messages):
        where = f"messages[{i}]"
        if not isinstance(item, dict):
            raise RecordError(where, f"expected an object, got {_kind(item)}")
        role = _string(item, "role", where + ".")
        # proto3 JSON omits an empty string: absent content is "".
        content = ""
        if _get(item, "content") is not None:
            content = _string(item, "content", where + ".", allow_empty=True)
        messages.append(Message(role=role, content=content))
    messages_t = tuple(messages)
    _check_target(messages_t, next_turn)

    return Sample(
        id=sample_id,
        conversation_id=conversation_id,
        context=context,
        next=next_turn,
        relation=relation,
        weight=weight,
        age_days=age_days,
        messages=messages_t,
        source=source,
        line=line,
    )


# --------------------------------------------------------------------------- reading


def _reject_constant(name: str) -> Any:
    # json.loads accepts NaN/Infinity by default; JSON (and proto3 JSON numbers) do not.
    raise ValueError(f"{name} is not valid JSON")


def _decode_line(raw: bytes, lineno: int) -> Any:
    """Bytes of one line -> decoded JSON value, or raise RecordError (no field)."""
    if lineno == 1 and raw.startswith(_UTF8_BOM):
        raw = raw[len(_UTF8_BOM):]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = raw[exc.start:exc.start + 1].hex()
        raise RecordError(
            None, f"not valid UTF-8 (byte 0x{bad} at byte offset {exc.start + 1})"
        ) from None
    if not text.strip():
        return _BLANK
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise RecordError(None, f"malformed JSON: {exc.msg} (column {exc.colno})") from None
    except ValueError as exc:
        raise RecordError(None, f"malformed JSON: {exc}") from None
    except RecursionError:
        raise RecordError(None, "malformed JSON: nested too deeply") from None


_BLANK = object()


def iter_samples(
    path: str | os.PathLike[str],
    *,
    strict: bool = False,
    on_error: Callable[[DatasetError], None] | None = None,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
) -> Iterator[Sample]:
    """Stream the valid samples of a JSONL file, one line at a time.

    Blank lines (and a trailing newline) are skipped; a UTF-8 BOM at the very
    start is tolerated. For each bad line a :class:`DatasetError` is raised
    when ``strict`` is true, otherwise passed to ``on_error`` (or dropped when
    ``on_error`` is None) and reading goes on. File-level problems (missing
    file, directory, permissions) raise :class:`OSError` as usual.
    """
    if max_line_bytes < 1:
        raise ValueError("max_line_bytes must be positive")
    name = os.fspath(path)

    def fail(lineno: int, message: str) -> None:
        err = DatasetError(name, lineno, message)
        if strict:
            raise err
        if on_error is not None:
            on_error(err)

    with open(name, "rb") as handle:
        lineno = 0
        while True:
            raw = handle.readline(max_line_bytes + 1)
            if not raw:
                break
            lineno += 1
            if len(raw) > max_line_bytes and not raw.endswith(b"\n"):
                # Skip the rest of the overlong line without holding it.
                while True:
                    chunk = handle.readline(1 << 20)
                    if not chunk or chunk.endswith(b"\n"):
                        break
                fail(lineno, f"line longer than {max_line_bytes} bytes")
                continue
            try:
                obj = _decode_line(raw, lineno)
                if obj is _BLANK:
                    continue
                sample = parse_record(obj, source=name, line=lineno)
            except RecordError as exc:
                fail(lineno, str(exc))
                continue
            yield sample


@dataclass
class LoadResult:
    """What :func:`load_samples` read: the good samples and the bad lines."""

    path: str
    samples: list[Sample]
    #: The first ``max_errors`` errors, in file order.
    errors: list[DatasetError]
    #: How many lines were rejected (may exceed ``len(errors)``).
    error_count: int

    @property
    def ok(self) -> bool:
        return self.error_count == 0


def load_samples(
    path: str | os.PathLike[str],
    *,
    strict: bool = False,
    max_errors: int = DEFAULT_MAX_ERRORS,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
) -> LoadResult:
    """Read and validate a samples JSONL file.

    By default every bad line is collected (the first ``max_errors`` are kept,
    all are counted) and the good lines are returned; with ``strict=True`` the
    first bad line raises :class:`DatasetError`. A missing file raises
    :class:`FileNotFoundError` in both modes.
    """
    errors: list[DatasetError] = []
    count = 0

    def collect(err: DatasetError) -> None:
        nonlocal count
        count += 1
        if len(errors) < max_errors:
            errors.append(err)

    samples = list(
        iter_samples(path, strict=strict, on_error=collect, max_line_bytes=max_line_bytes)
    )
    return LoadResult(path=os.fspath(path), samples=samples, errors=errors, error_count=count)


# --------------------------------------------------------------------------- summary & chat


@dataclass(frozen=True)
class DatasetSummary:
    count: int
    conversations: int
    total_weight: float
    mean_weight: float | None
    relations: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        """camelCase keys, like the rest of Trajectory's JSON."""
        return {
            "samples": self.count,
            "conversations": self.conversations,
            "totalWeight": self.total_weight,
            "meanWeight": self.mean_weight,
            "relations": dict(self.relations),
        }


def summarize(samples: Iterable[Sample]) -> DatasetSummary:
    """Count samples, distinct conversations and relations; total and mean weight.

    Accepts any iterable (e.g. :func:`iter_samples`), consumed once.
    ``mean_weight`` is None for no samples.
    """
    count = 0
    total = compensation = 0.0  # Neumaier summation: accurate without keeping the weights
    relations: Counter[str] = Counter()
    conversations: set[str] = set()
    for sample in samples:
        count += 1
        t = total + sample.weight
        if abs(total) >= abs(sample.weight):
            compensation += (total - t) + sample.weight
        else:
            compensation += (sample.weight - t) + total
        total = t
        relations[sample.relation] += 1
        conversations.add(sample.conversation_id)
    total += compensation
    return DatasetSummary(
        count=count,
        conversations=len(conversations),
        total_weight=total,
        mean_weight=total / count if count else None,
        relations=dict(sorted(relations.items())),
    )


def to_chat_example(sample: Sample | Mapping[str, Any]) -> dict[str, Any]:
    """``{"messages": [{"role", "content"}, ...], "weight": w}`` for SFT.

    The messages are kept as given; the last one is the target turn and must
    carry ``next.text``, whatever ``next.role`` is (a sample may predict the
    user's next thought). A raw JSON object is validated first.
    Raises :class:`RecordError` when the record is not a valid target.
    """
    if not isinstance(sample, Sample):
        sample = parse_record(dict(sample))
    if not sample.messages:
        raise RecordError("messages", f"{sample.location}: must not be empty")
    try:
        _check_target(sample.messages, sample.next)
    except RecordError as exc:
        raise RecordError(exc.field, f"{sample.location}: {exc.message}") from None
    return {
        "messages": [{"role": m.role, "content": m.content} for m in sample.messages],
        "weight": sample.weight,
    }
