#!/usr/bin/env python3
"""Checks an export folder (packages/samples/src/exports.ts) with the consumers' own rules.

    python check_exports.py EXPORT_DIR [--info-only]

Prints one JSON object:
  files:       for every JSONL file in the folder, what Hugging Face `datasets` reports when it
               loads it with load_dataset("json", data_files=...): num_rows, column_names and
               features (Features.to_dict()). Skipped with --info-only (no `datasets` import).
  datasetInfo: {entries: [...], errors: [...]}: dataset_info.json read the way LLaMA-Factory
               reads it (data/parser.py: DatasetAttr.join, where `columns`/`tags` given replace
               the defaults and unlisted ones become None) and every row put through the checks
               of its converter (data/converter.py): sharegpt roles alternating user/assistant
               with an even count, alpaca prompt and response present, ranking rows with string
               chosen/rejected.
Exits 0 whenever it could run the checks; the caller judges the report.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

COLUMN_NAMES = ["prompt", "query", "response", "history", "messages", "system", "tools"]
COLUMN_NAMES += ["images", "videos", "audios", "chosen", "rejected", "kto_tag"]
TAG_NAMES = ["role_tag", "content_tag", "user_tag", "assistant_tag", "observation_tag", "function_tag", "system_tag"]
DEFAULTS: dict[str, Any] = {
    "prompt": "instruction",
    "query": "input",
    "response": "output",
    "messages": "conversations",
    "role_tag": "from",
    "content_tag": "value",
    "user_tag": "human",
    "assistant_tag": "gpt",
    "observation_tag": "observation",
    "function_tag": "function_call",
    "system_tag": "system",
}


def dataset_attr(entry: dict[str, Any]) -> dict[str, Any]:
    """LLaMA-Factory's DatasetAttr for a file entry, as a dict."""
    attr: dict[str, Any] = {name: DEFAULTS.get(name) for name in COLUMN_NAMES + TAG_NAMES}
    attr["formatting"] = entry.get("formatting", "alpaca")
    attr["ranking"] = entry.get("ranking", False)
    if "columns" in entry:
        for name in COLUMN_NAMES:
            attr[name] = entry["columns"].get(name)
    if "tags" in entry:
        for name in TAG_NAMES:
            attr[name] = entry["tags"].get(name)
    return attr


def check_sharegpt_row(attr: dict[str, Any], row: dict[str, Any]) -> str | None:
    messages = row.get(attr["messages"])
    if not isinstance(messages, list):
        return f"column {attr['messages']!r} is not a list"
    role_tag, content_tag = attr["role_tag"], attr["content_tag"]
    for message in messages:
        if not isinstance(message, dict) or set(message) != {role_tag, content_tag}:
            return f"message keys {sorted(message) if isinstance(message, dict) else message!r} are not the tags {role_tag!r}/{content_tag!r}"
        if not isinstance(message[content_tag], str) or message[content_tag].strip() == "":
            return "a message has no text"
    if attr["system_tag"] and messages and messages[0][role_tag] == attr["system_tag"]:
        messages = messages[1:]
    elif attr["system"] and not isinstance(row.get(attr["system"]), str):
        return f"system column {attr['system']!r} is not a string"
    accept = ((attr["user_tag"], attr["observation_tag"]), (attr["assistant_tag"], attr["function_tag"]))
    for index, message in enumerate(messages):
        if message[role_tag] not in accept[index % 2]:
            return f"invalid role tag {message[role_tag]!r} at turn {index}"
    if not attr["ranking"] and (len(messages) == 0 or len(messages) % 2 != 0):
        return f"invalid message count {len(messages)}"
    if attr["ranking"]:
        # Sharegpt ranking: the conversation ends with the user; chosen and rejected are one
        # assistant message each (converter.py's pairwise example).
        if len(messages) % 2 == 0:
            return f"invalid message count {len(messages)} (a ranking conversation ends with the user)"
        for name in ("chosen", "rejected"):
            answer = row.get(attr[name])
            if (
                not isinstance(answer, dict)
                or answer.get(role_tag) not in accept[1]
                or not isinstance(answer.get(content_tag), str)
                or not answer[content_tag].strip()
            ):
                return f"{name} is not one {attr['assistant_tag']!r} message"
    return None


def check_alpaca_row(attr: dict[str, Any], row: dict[str, Any]) -> str | None:
    for name in ("prompt", "query", "system"):
        column = attr[name]
        if column and not isinstance(row.get(column), str):
            return f"{name} column {column!r} is missing or not a string"
    if not attr["prompt"] or not row.get(attr["prompt"]):
        return "no prompt"
    if attr["history"]:
        history = row.get(attr["history"])
        if not isinstance(history, list) or not all(
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(s, str) for s in pair) for pair in history
        ):
            return f"history column {attr['history']!r} is not a list of [prompt, response] pairs"
    if attr["ranking"]:
        if not attr["chosen"] or not attr["rejected"]:
            return "a ranking entry without chosen/rejected columns"
        if not isinstance(row.get(attr["chosen"]), str) or not isinstance(row.get(attr["rejected"]), str):
            return "chosen/rejected are not strings"
    elif not attr["response"] or not isinstance(row.get(attr["response"]), str) or not row[attr["response"]]:
        return "no response"
    return None


def check_dataset_info(folder: Path) -> dict[str, Any]:
    errors: list[str] = []
    path = folder / "dataset_info.json"
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        return {"entries": [], "errors": [f"dataset_info.json: {err}"]}
    if not isinstance(info, dict):
        return {"entries": [], "errors": ["dataset_info.json is not an object"]}
    for name, entry in info.items():
        where = f"dataset_info.json {name}"
        if not isinstance(entry, dict) or not isinstance(entry.get("file_name"), str):
            errors.append(f"{where}: no file_name")
            continue
        file = folder / entry["file_name"]
        if not file.is_file():
            errors.append(f"{where}: file_name {entry['file_name']} does not exist")
            continue
        if entry.get("formatting", "alpaca") not in ("alpaca", "sharegpt"):
            errors.append(f"{where}: formatting {entry.get('formatting')!r} is not alpaca or sharegpt")
            continue
        attr = dataset_attr(entry)
        if attr["ranking"] and (not attr["chosen"] or not attr["rejected"]):
            errors.append(f"{where}: ranking without chosen and rejected columns")
            continue
        if "tags" in entry and attr["formatting"] != "sharegpt":
            errors.append(f"{where}: tags are for the sharegpt format")
        check = check_sharegpt_row if attr["formatting"] == "sharegpt" else check_alpaca_row
        with file.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                problem = check(attr, json.loads(line))
                if problem:
                    errors.append(f"{where}: {entry['file_name']} line {number}: {problem}")
                    break
    return {"entries": sorted(info), "errors": errors}


def load_files(folder: Path) -> dict[str, Any]:
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import datasets  # noqa: PLC0415 (only when asked: --info-only runs without it)

    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="check-exports-cache-") as cache:
        for file in sorted(folder.glob("*.jsonl")):
            ds = datasets.load_dataset("json", data_files=str(file), split="train", cache_dir=cache)
            report[file.name] = {
                "num_rows": ds.num_rows,
                "column_names": ds.column_names,
                "features": ds.features.to_dict(),
            }
    return {"datasetsVersion": datasets.__version__, "files": report}


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("--")]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    folder = Path(args[0])
    report: dict[str, Any] = {"datasetInfo": check_dataset_info(folder)}
    if "--info-only" not in argv:
        report.update(load_files(folder))
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
