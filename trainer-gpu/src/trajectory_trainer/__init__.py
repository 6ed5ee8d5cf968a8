"""Trajectory trainer: QLoRA fine-tuning on Trajectory's weighted samples dataset.

This first slice is dependency-free: it validates the JSONL dataset written by
the samples service, formats records as chat examples for SFT and parses the
training arguments. Real training needs the ``gpu`` extra.
"""

from .args import DataclassArgumentParser, LoraArguments, ModelArguments, ScriptArguments
from .dataset import (
    DatasetError,
    DatasetSummary,
    LoadResult,
    Message,
    RecordError,
    Sample,
    Turn,
    iter_samples,
    load_samples,
    parse_record,
    summarize,
    to_chat_example,
)

__version__ = "0.1.0"

__all__ = [
    "DataclassArgumentParser",
    "DatasetError",
    "DatasetSummary",
    "LoadResult",
    "LoraArguments",
    "Message",
    "ModelArguments",
    "RecordError",
    "Sample",
    "ScriptArguments",
    "Turn",
    "__version__",
    "iter_samples",
    "load_samples",
    "parse_record",
    "summarize",
    "to_chat_example",
]
