"""Training arguments as dataclasses, parsed from the command line like TRL's scripts.

:class:`DataclassArgumentParser` is a small stand-in for transformers'
``HfArgumentParser`` (not a dependency of this slice) with the same calling
convention: one ``--field_name`` flag per dataclass field (``--field-name``
is accepted too), ``parse_args_into_dataclasses()`` returning one instance per
dataclass. Booleans take ``--flag``, ``--flag true|false`` and, when they
default to true, ``--no_flag``; list fields take several values.
Field names follow TRL's ``ModelConfig``/``SFTConfig`` so that the later
training code can hand them over unchanged.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal, Sequence

__all__ = [
    "DEFAULT_BASE_MODEL",
    "DEFAULT_TARGET_MODULES",
    "DataclassArgumentParser",
    "LoraArguments",
    "ModelArguments",
    "ScriptArguments",
    "string_to_bool",
]

DEFAULT_BASE_MODEL = "Qwen/Qwen2.5-7B-Instruct"
DEFAULT_TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def _help(text: str) -> dict[str, Any]:
    return {"help": text}


@dataclass
class ScriptArguments:
    """Dataset, output and training-loop settings."""

    dataset: str = field(metadata=_help("Path of the samples JSONL file written by the samples service."))
    output_dir: str = field(
        default="outputs/trajectory-qlora", metadata=_help("Where the LoRA adapter and checkpoints go.")
    )
    dry_run: bool = field(
        default=False, metadata=_help("Validate the dataset, print a JSON summary and exit; no training.")
    )
    strict: bool = field(default=False, metadata=_help("Stop at the first invalid dataset line."))
    num_train_epochs: float = field(default=1.0, metadata=_help("Number of passes over the dataset."))
    learning_rate: float = field(default=2e-4, metadata=_help("Peak learning rate (AdamW)."))
    max_seq_length: int = field(default=2048, metadata=_help("Longest tokenized example; longer ones are truncated."))
    per_device_train_batch_size: int = field(default=1, metadata=_help("Batch size per GPU."))
    gradient_accumulation_steps: int = field(default=16, metadata=_help("Steps accumulated per optimizer update."))
    warmup_ratio: float = field(default=0.03, metadata=_help("Fraction of steps used for learning-rate warmup."))
    lr_scheduler_type: str = field(default="cosine", metadata=_help("Learning-rate schedule."))
    bf16: bool = field(default=True, metadata=_help("Train in bfloat16 mixed precision."))
    gradient_checkpointing: bool = field(default=True, metadata=_help("Trade compute for memory."))
    logging_steps: int = field(default=10, metadata=_help("Log every N optimizer steps."))
    seed: int = field(default=42, metadata=_help("Random seed."))

    def __post_init__(self) -> None:
        if not self.dataset:
            raise ValueError("--dataset must not be empty")
        if not self.output_dir:
            raise ValueError("--output_dir must not be empty")
        _positive("num_train_epochs", self.num_train_epochs)
        _positive("learning_rate", self.learning_rate)
        _positive("max_seq_length", self.max_seq_length)
        _positive("per_device_train_batch_size", self.per_device_train_batch_size)
        _positive("gradient_accumulation_steps", self.gradient_accumulation_steps)
        _positive("logging_steps", self.logging_steps)
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise ValueError(f"--warmup_ratio must be in [0, 1), got {self.warmup_ratio}")


@dataclass
class ModelArguments:
    """Base model and 4-bit quantization (QLoRA)."""

    model_name_or_path: str = field(
        default=DEFAULT_BASE_MODEL, metadata=_help("Hugging Face model id or local path of the base model.")
    )
    torch_dtype: Literal["auto", "bfloat16", "float16", "float32"] = field(
        default="bfloat16", metadata=_help("dtype the non-quantized weights are loaded in.")
    )
    load_in_4bit: bool = field(default=True, metadata=_help("Quantize the base model to 4 bits (QLoRA)."))
    bnb_4bit_quant_type: Literal["nf4", "fp4"] = field(default="nf4", metadata=_help("4-bit data type."))
    bnb_4bit_compute_dtype: Literal["bfloat16", "float16", "float32"] = field(
        default="bfloat16", metadata=_help("dtype of the 4-bit matmuls.")
    )
    use_bnb_nested_quant: bool = field(
        default=True, metadata=_help("Double quantization: also quantize the quantization constants.")
    )
    trust_remote_code: bool = field(default=False, metadata=_help("Allow model code from the Hub."))
    attn_implementation: str | None = field(
        default=None, metadata=_help("e.g. sdpa or flash_attention_2; default: transformers' choice.")
    )

    def __post_init__(self) -> None:
        if not self.model_name_or_path:
            raise ValueError("--model_name_or_path must not be empty")


@dataclass
class LoraArguments:
    """LoRA adapter."""

    use_peft: bool = field(default=True, metadata=_help("Train a LoRA adapter instead of the full model."))
    lora_r: int = field(default=16, metadata=_help("LoRA rank."))
    lora_alpha: int = field(default=32, metadata=_help("LoRA scaling (alpha / r)."))
    lora_dropout: float = field(default=0.05, metadata=_help("Dropout on the LoRA input."))
    lora_target_modules: list[str] = field(
        default_factory=lambda: list(DEFAULT_TARGET_MODULES),
        metadata=_help("Linear layers that get an adapter."),
    )
    lora_bias: Literal["none", "all", "lora_only"] = field(default="none", metadata=_help("Which biases to train."))

    def __post_init__(self) -> None:
        _positive("lora_r", self.lora_r)
        _positive("lora_alpha", self.lora_alpha)
        if not 0.0 <= self.lora_dropout < 1.0:
            raise ValueError(f"--lora_dropout must be in [0, 1), got {self.lora_dropout}")
        if not self.lora_target_modules:
            raise ValueError("--lora_target_modules needs at least one module")


def _positive(name: str, value: float) -> None:
    if not value > 0:
        raise ValueError(f"--{name} must be positive, got {value}")


# --------------------------------------------------------------------------- parser


def string_to_bool(value: str | bool) -> bool:
    if isinstance(value, bool):
        return value
    lowered = value.lower()
    if lowered in ("yes", "true", "t", "y", "1"):
        return True
    if lowered in ("no", "false", "f", "n", "0"):
        return False
    raise argparse.ArgumentTypeError(f"expected a boolean (true/false), got {value!r}")


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(tp)) == 2:
            return args[0], True
        raise TypeError(f"unsupported union type {tp!r}")
    return tp, False


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows defaults, except the meaningless ``None`` of required flags."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.required:
            return action.help
        return super()._get_help_string(action)


class DataclassArgumentParser(argparse.ArgumentParser):
    """argparse over dataclasses, in the manner of transformers' ``HfArgumentParser``."""

    def __init__(self, dataclass_types: Sequence[type] | type, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(**kwargs)
        if dataclasses.is_dataclass(dataclass_types):
            dataclass_types = [dataclass_types]  # type: ignore[list-item]
        self.dataclass_types = list(dataclass_types)  # type: ignore[arg-type]
        seen: dict[str, str] = {}
        for dtype in self.dataclass_types:
            if not dataclasses.is_dataclass(dtype):
                raise TypeError(f"{dtype!r} is not a dataclass")
            group = self.add_argument_group(dtype.__name__, (dtype.__doc__ or "").strip() or None)
            hints = typing.get_type_hints(dtype)
            for f in dataclasses.fields(dtype):
                if not f.init:
                    continue
                if f.name in seen:
                    raise ValueError(f"field {f.name!r} is defined by both {seen[f.name]} and {dtype.__name__}")
                seen[f.name] = dtype.__name__
                self._add_field(group, f, hints[f.name])

    @staticmethod
    def _add_field(group: argparse._ArgumentGroup, f: dataclasses.Field, hint: Any) -> None:
        flags = [f"--{f.name}"]
        if "_" in f.name:
            flags.append(f"--{f.name.replace('_', '-')}")
        kwargs: dict[str, Any] = {"dest": f.name, "help": f.metadata.get("help", "")}

        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = dataclasses.MISSING
        if default is dataclasses.MISSING:
            kwargs["required"] = True
        else:
            kwargs["default"] = default

        tp, _optional = _unwrap_optional(hint)
        origin = typing.get_origin(tp)
        if tp is bool:
            kwargs.update(type=string_to_bool, nargs="?", const=True, metavar="BOOL")
            group.add_argument(*flags, **kwargs)
            if default is True:
                no_flags = [f"--no_{f.name}", f"--no-{f.name.replace('_', '-')}"]
                group.add_argument(
                    *no_flags, dest=f.name, action="store_false", help=f"Same as --{f.name} false."
                )
            return
        if origin is Literal:
            choices = list(typing.get_args(tp))
            kwargs.update(type=type(choices[0]), choices=choices)
            group.add_argument(*flags, **kwargs)  # argparse shows {choice,...} as metavar
            return
        elif origin in (list, Sequence, tuple) or tp is list:
            item_args = typing.get_args(tp)
            kwargs.update(type=item_args[0] if item_args else str, nargs="+")
        elif tp in (str, int, float):
            kwargs["type"] = tp
        else:
            raise TypeError(f"unsupported type {hint!r} for field {f.name!r}")
        kwargs.setdefault("metavar", f.name.upper())
        group.add_argument(*flags, **kwargs)

    def parse_args_into_dataclasses(self, args: Sequence[str] | None = None) -> tuple[Any, ...]:
        """Parse ``args`` (default ``sys.argv[1:]``) into one instance per dataclass.

        Unknown flags and values rejected by a dataclass' ``__post_init__``
        end in ``self.error`` (usage message, exit status 2).
        """
        namespace = self.parse_args(args)
        outputs = []
        for dtype in self.dataclass_types:
            values = {
                # copy lists so that a default list is never shared between results
                f.name: copy.copy(getattr(namespace, f.name))
                for f in dataclasses.fields(dtype)
                if f.init
            }
            try:
                outputs.append(dtype(**values))
            except ValueError as exc:
                self.error(str(exc))
        return tuple(outputs)
