"""Training arguments as dataclasses, parsed from the command line as TRL's scripts do.

:class:`Hyperparameters` mirrors ``trajectory.v1.TrainingHyperparameters`` field by field (a test
keeps them in step) with the job defaults filled in: a job's zero values mean "the
default", as on the TypeScript side. :class:`TrainArguments` and :class:`WorkerArguments` hold
what a local run and a NATS worker need besides.

The command line is transformers' ``HfArgumentParser`` over these dataclasses (cli.py): one
``--field_name`` flag per field (``--field-name`` too), booleans as ``--flag``, ``--flag
true|false`` and, when they default to true, ``--no_flag``; list fields take several values.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DEFAULT_BASE_MODEL",
    "DEFAULT_TARGET_MODULES",
    "Hyperparameters",
    "TrainArguments",
    "WorkerArguments",
    "default_base_model",
    "parse_into_dataclasses",
]

DEFAULT_BASE_MODEL = "Qwen/Qwen2.5-7B-Instruct"
DEFAULT_TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
#: The CPU test model, built in code (see tiny.py).
TINY_MODEL = "tiny-random-qwen2"


def default_base_model() -> str:
    """``TRAINING_BASE_MODEL`` (the training service's setting, shared by the trainer), else Qwen2.5-7B-Instruct."""
    return os.environ.get("TRAINING_BASE_MODEL") or DEFAULT_BASE_MODEL


def _help(text: str) -> dict[str, Any]:
    return {"help": text}


@dataclass
class Hyperparameters:
    """How a job trains: trajectory.v1.TrainingHyperparameters with its defaults."""

    _argument_group_name = "Hyperparameters (a job's TrainingHyperparameters)"

    base_model: str = field(
        default_factory=default_base_model,
        metadata=_help(f"Hub id or local path of the base model; {TINY_MODEL!r}: the tiny CPU test model built in code."),
    )
    lora_r: int = field(default=64, metadata=_help("LoRA rank."))
    lora_alpha: int = field(default=128, metadata=_help("LoRA scaling (alpha / r)."))
    lora_dropout: float = field(default=0.05, metadata=_help("Dropout on the LoRA input."))
    target_modules: list[str] = field(
        default_factory=lambda: list(DEFAULT_TARGET_MODULES), metadata=_help("Linear layers that get an adapter.")
    )
    learning_rate: float = field(default=3e-4, metadata=_help("Peak learning rate (AdamW)."))
    lr_scheduler: str = field(default="cosine", metadata=_help("Learning-rate schedule (transformers' get_scheduler names)."))
    warmup_ratio: float = field(default=0.03, metadata=_help("Share of the steps spent warming the learning rate up."))
    epochs: float = field(default=5.0, metadata=_help("Passes over the training examples."))
    batch_size: int = field(default=2, metadata=_help("Examples per forward pass."))
    gradient_accumulation_steps: int = field(default=4, metadata=_help("Forward passes per optimizer step."))
    disable_gradient_checkpointing: bool = field(default=False, metadata=_help("Turn gradient checkpointing off."))
    disable_4bit: bool = field(
        default=False, metadata=_help("Do not quantise the base model (4-bit NF4 is used only where CUDA is).")
    )
    max_seq_length: int = field(default=2048, metadata=_help("Longest tokenised example; longer ones lose their start."))
    max_steps: int = field(default=0, metadata=_help("Optimizer steps; 0: the epochs decide."))
    save_steps: int = field(default=50, metadata=_help("Checkpoint every N optimizer steps."))
    merge: bool = field(default=False, metadata=_help("Also write the merged model (merged/)."))
    ollama: bool = field(default=False, metadata=_help("Also write an Ollama Modelfile (FROM base + ADAPTER ./)."))
    seed: int = field(default=42, metadata=_help("Seed of the data order, dropout and the tiny model's weights."))

    def __post_init__(self) -> None:
        # HfArgumentParser hands every parse the same default list.
        self.target_modules = list(self.target_modules)
        if not self.base_model:
            raise ValueError("--base_model must not be empty")
        for name in ("lora_r", "lora_alpha", "learning_rate", "epochs", "batch_size",
                     "gradient_accumulation_steps", "max_seq_length", "save_steps"):
            _positive(name, getattr(self, name))
        if not 0.0 <= self.lora_dropout < 1.0:
            raise ValueError(f"--lora_dropout must be in [0, 1), got {self.lora_dropout}")
        if not 0.0 <= self.warmup_ratio <= 1.0:
            raise ValueError(f"--warmup_ratio must be in [0, 1], got {self.warmup_ratio}")
        if self.max_steps < 0:
            raise ValueError(f"--max_steps must be >= 0, got {self.max_steps}")
        if not self.target_modules:
            raise ValueError("--target_modules needs at least one module")
        if not math.isfinite(self.learning_rate) or not math.isfinite(self.epochs):
            raise ValueError("--learning_rate and --epochs must be finite")

    # proto <-> dataclass -----------------------------------------------------------------

    @classmethod
    def from_proto(cls, message: Any, base_model: str = "") -> Hyperparameters:
        """A job's hyperparameters: zero values (proto3's "unset") become the defaults.

        ``base_model``: the job's own base model, used when the hyperparameters name none.
        """
        values: dict[str, Any] = {}
        defaults = cls()
        for f in dataclasses.fields(cls):
            value = getattr(message, f.name) if message is not None else None
            if f.name == "target_modules":
                value = list(value) if value else None
            if value:  # 0, 0.0, "", False and [] mean "the default"
                values[f.name] = value
            elif f.name == "base_model" and base_model:
                values[f.name] = base_model
            else:
                values[f.name] = copy.copy(getattr(defaults, f.name))
        return cls(**values)

    def to_proto(self) -> Any:
        from .contracts import TrainingHyperparameters

        message = TrainingHyperparameters()
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "target_modules":
                message.target_modules.extend(value)
            else:
                setattr(message, f.name, value)
        return message

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def is_tiny(self) -> bool:
        return self.base_model == TINY_MODEL


@dataclass
class TrainArguments:
    """A local run: the dataset, where the adapter and checkpoints go."""

    _argument_group_name = "TrainArguments (a local run)"

    dataset: str = field(
        metadata=_help("Dataset version folder (records.jsonl + sft.jsonl), or its records.jsonl.")
    )
    output_dir: str = field(default="outputs/trajectory-adapter", metadata=_help("Where the adapter is written."))
    job_id: str = field(
        default="", metadata=_help("Names the checkpoints; the same id resumes. Default: from the dataset and hyperparameters.")
    )
    checkpoint_dir: str = field(
        default="",
        metadata=_help("Checkpoints go to <checkpoint_dir>/<job_id>/checkpoint-<step>; default: <output_dir>/checkpoints."),
    )
    dry_run: bool = field(default=False, metadata=_help("Read and check the dataset, print a JSON summary and exit."))
    progress_steps: int = field(default=0, metadata=_help("Report progress every N steps; 0: about 20 reports a run."))
    recall: bool = field(default=True, metadata=_help("Run the recall evaluation on the held-out phrasings."))
    recall_max_new_tokens: int = field(default=32, metadata=_help("Tokens generated per recall question."))

    def __post_init__(self) -> None:
        if not self.dataset:
            raise ValueError("--dataset must not be empty")
        if not self.output_dir:
            raise ValueError("--output_dir must not be empty")
        if self.progress_steps < 0:
            raise ValueError(f"--progress_steps must be >= 0, got {self.progress_steps}")
        _positive("recall_max_new_tokens", self.recall_max_new_tokens)


@dataclass
class WorkerArguments:
    """A trainer on the bus: takes jobs from the durable consumer `trainer`, one at a time."""

    nats: str = field(
        default_factory=lambda: os.environ.get("NATS_URL", "nats://127.0.0.1:4222"),
        metadata=_help("NATS server URL (default: $NATS_URL)."),
    )
    checkpoint_dir: str = field(
        default_factory=lambda: os.environ.get("TRAINER_CHECKPOINT_DIR", ".trajectory/trainer/checkpoints"),
        metadata=_help("Checkpoints, by job: share it between machines (a volume) so another trainer can resume a job."),
    )
    work_dir: str = field(
        default_factory=lambda: os.environ.get("TRAINER_WORK_DIR", ".trajectory/trainer/work"),
        metadata=_help("Downloaded datasets and adapters being written."),
    )
    trainer_id: str = field(
        default_factory=lambda: os.environ.get("TRAINER_ID", ""),
        metadata=_help("This trainer's name in the job's events; default: host name and process id."),
    )
    once: bool = field(default=False, metadata=_help("Handle one job, then exit."))
    keep_checkpoints: bool = field(default=False, metadata=_help("Keep a job's checkpoints after it succeeded."))
    recall_max_new_tokens: int = field(default=32, metadata=_help("Tokens generated per recall question."))

    def __post_init__(self) -> None:
        if not self.nats:
            raise ValueError("--nats must not be empty")
        _positive("recall_max_new_tokens", self.recall_max_new_tokens)


def _positive(name: str, value: float) -> None:
    if not value > 0:
        raise ValueError(f"--{name} must be positive, got {value}")


def parse_into_dataclasses(parser: Any, argv: Sequence[str] | None) -> tuple[Any, ...]:
    """``parser.parse_args_into_dataclasses(argv)`` (an ``HfArgumentParser``), with every error a usage error.

    A value a dataclass' ``__post_init__`` rejects, or a flag no dataclass has, ends in
    ``parser.error``: the usage line and the message on stderr, exit status 2.
    """
    try:
        return parser.parse_args_into_dataclasses(list(argv) if argv is not None else None, look_for_args_file=False)
    except ValueError as exc:
        parser.error(str(exc))
        raise  # parser.error exits; for type checkers
