"""``trajectory-train`` (also ``python -m trajectory_trainer``).

    trajectory-train train --dataset DIR [--output_dir OUT] [--base_model M] [--lora_r 64] ...
    trajectory-train worker --nats nats://host:4222 [--checkpoint-dir DIR] [--trainer-id ID]

Exit status: 0 success; 1 training failed; 2 bad arguments or an unreadable dataset;
130 interrupted (the job's checkpoint is saved: the same command resumes it).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .args import Hyperparameters, TrainArguments, WorkerArguments, parse_into_dataclasses

if TYPE_CHECKING:
    from transformers import HfArgumentParser

PROG = "trajectory-train"
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

USAGE = f"""usage: {PROG} {{train,worker}} [options]

QLoRA fine-tuning on a Trajectory dataset version (docs/training.md).

commands:
  train    train one adapter locally from a dataset version folder (--help for the flags)
  worker   take training jobs from NATS JetStream, one at a time, and publish adapters

options:
  -h, --help  show this help and exit
  --version   show the version and exit
"""


def build_train_parser() -> HfArgumentParser:
    from transformers import HfArgumentParser

    dataclass_types: list[Any] = [TrainArguments, Hyperparameters]
    return HfArgumentParser(
        dataclass_types,
        prog=f"{PROG} train",
        description="Train a LoRA adapter on a dataset version folder (records.jsonl + sft.jsonl).",
    )


def build_worker_parser() -> HfArgumentParser:
    from transformers import HfArgumentParser

    dataclass_types: list[Any] = [WorkerArguments]
    return HfArgumentParser(
        dataclass_types,
        prog=f"{PROG} worker",
        description="Take training jobs from the durable consumer 'trainer' and publish adapters.",
    )


def _error(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


def _setup_logging() -> None:
    # LOG_LEVEL as the TypeScript services read it (debug, info, warn, error).
    name = os.environ.get("LOG_LEVEL", "info").upper().replace("WARN", "WARNING").replace("WARNINGING", "WARNING")
    level = getattr(logging, name, logging.INFO)
    if not isinstance(level, int):
        level = logging.INFO
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def default_job_id(dataset_dir: Path, hp: Hyperparameters) -> str:
    canonical = json.dumps({"dataset": str(dataset_dir.resolve()), "hyperparameters": hp.as_dict()}, sort_keys=True)
    return "local-" + hashlib.sha256(canonical.encode()).hexdigest()[:16]


def train_command(argv: Sequence[str]) -> int:
    from .data import DatasetError, dataset_dir_of, load_dataset

    args, hp = parse_into_dataclasses(build_train_parser(), argv)
    dataset_dir = dataset_dir_of(args.dataset)
    try:
        data = load_dataset(dataset_dir)
    except DatasetError as exc:
        _error(str(exc))
        return EXIT_USAGE
    if args.dry_run:
        print(json.dumps(data.summary()), flush=True)
        return EXIT_OK

    _setup_logging()
    from .train import Hooks, Progress, TrainingInterrupted, TrainJob, run_training

    job_id = args.job_id or default_job_id(dataset_dir, hp)
    output = Path(args.output_dir)
    job = TrainJob(
        job_id=job_id,
        dataset_dir=dataset_dir,
        output_dir=output,
        checkpoint_dir=Path(args.checkpoint_dir) if args.checkpoint_dir else output / "checkpoints",
        hyperparameters=hp,
        progress_steps=args.progress_steps,
        recall=args.recall,
        recall_max_new_tokens=args.recall_max_new_tokens,
    )

    def on_progress(p: Progress) -> None:
        print(json.dumps({"progress": p.__dict__}), file=sys.stderr, flush=True)

    stop = {"requested": False}
    import signal

    def on_signal(_sig: int, _frame: object) -> None:
        if stop["requested"]:
            raise KeyboardInterrupt
        stop["requested"] = True

    signal.signal(signal.SIGTERM, on_signal)
    try:
        result = run_training(job, Hooks(on_progress=on_progress, should_stop=lambda: stop["requested"]))
    except TrainingInterrupted as exc:
        _error(f"{exc}: run the same command again to resume job {job_id}")
        return EXIT_INTERRUPTED
    except DatasetError as exc:
        _error(str(exc))
        return EXIT_USAGE
    summary = {
        "jobId": job_id,
        "output": str(result.output_dir),
        "files": result.files,
        "totalSteps": result.total_steps,
        "resumedFromStep": result.resumed_from_step,
        "metrics": result.metrics,
        "recall": result.recall.as_dict() if result.recall else None,
    }
    print(json.dumps(summary), flush=True)
    return EXIT_OK


def worker_command(argv: Sequence[str]) -> int:
    import asyncio

    from .worker import run_worker

    (args,) = parse_into_dataclasses(build_worker_parser(), argv)
    _setup_logging()
    return asyncio.run(run_worker(args))


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        print(USAGE, end="", file=sys.stderr)
        return EXIT_USAGE
    if argv[0] in ("-h", "--help"):
        print(USAGE, end="")
        return EXIT_OK
    if argv[0] == "--version":
        print(f"{PROG} {__version__}")
        return EXIT_OK
    command, rest = argv[0], argv[1:]
    if command == "train":
        return train_command(rest)
    if command == "worker":
        return worker_command(rest)
    print(USAGE, end="", file=sys.stderr)
    _error(f"unknown command {command!r} (expected train or worker)")
    return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
