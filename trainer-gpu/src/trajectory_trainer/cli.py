"""``trajectory-train`` (also ``python -m trajectory_trainer``).

Exit status: 0 success; 2 bad arguments, missing/unreadable dataset or no
valid sample (or any invalid line with ``--strict``); 3 training requested
but not available in this installation.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from typing import Sequence, TextIO

from . import __version__
from .args import DataclassArgumentParser, LoraArguments, ModelArguments, ScriptArguments
from .dataset import DatasetError, iter_samples, summarize

PROG = "trajectory-train"
#: The ``gpu`` extra of pyproject.toml: what real training imports.
GPU_EXTRAS = ("torch", "transformers", "peft", "bitsandbytes", "accelerate", "trl")

EXIT_OK = 0
EXIT_DATA = 2  # same status as argparse's usage errors
EXIT_UNAVAILABLE = 3

#: How many invalid lines are printed to stderr before "... and N more".
SHOWN_ERRORS = 20


def build_parser() -> DataclassArgumentParser:
    parser = DataclassArgumentParser(
        (ScriptArguments, ModelArguments, LoraArguments),
        prog=PROG,
        description=(
            "QLoRA fine-tuning on Trajectory's weighted samples dataset. "
            "Use --dry-run to validate a dataset and print its summary as one JSON line."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def _missing_gpu_extras() -> list[str]:
    missing = []
    for name in GPU_EXTRAS:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    return missing


def _error(message: str, stream: TextIO | None = None) -> None:
    print(f"{PROG}: {message}", file=stream or sys.stderr)


def dry_run(script: ScriptArguments) -> int:
    """Validate the dataset, print one JSON summary line; 0 iff a valid sample exists.

    The file is streamed: memory does not grow with the number of samples.
    """
    path = script.dataset
    invalid = 0

    def report(err: DatasetError) -> None:
        nonlocal invalid
        invalid += 1
        if invalid <= SHOWN_ERRORS:
            _error(f"skipped invalid line: {err}")

    try:
        summary = summarize(iter_samples(path, strict=script.strict, on_error=report))
    except DatasetError as exc:  # --strict
        _error(f"invalid dataset line: {exc}")
        return EXIT_DATA
    except FileNotFoundError:
        _error(f"dataset not found: {path}")
        return EXIT_DATA
    except IsADirectoryError:
        _error(f"dataset is a directory, expected a JSONL file: {path}")
        return EXIT_DATA
    except OSError as exc:
        _error(f"cannot read dataset {path}: {exc.strerror or exc}")
        return EXIT_DATA

    if invalid > SHOWN_ERRORS:
        _error(f"... and {invalid - SHOWN_ERRORS} more invalid lines")

    line = {"dataset": path, **summary.as_dict(), "invalid": invalid}
    print(json.dumps(line), flush=True)

    if summary.count == 0:
        if invalid:
            _error(f"no valid sample in {path} ({_lines(invalid)} invalid)")
        else:
            _error(f"no valid sample in {path}: the file has no records")
        return EXIT_DATA
    return EXIT_OK


def _lines(n: int) -> str:
    return f"{n} line" if n == 1 else f"{n} lines"


def train_unavailable() -> int:
    """Real training is not part of this slice: say so, never pretend to train."""
    missing = _missing_gpu_extras()
    if missing:
        _error(
            "real training needs the GPU extras, which are not installed "
            f"(missing: {', '.join(missing)}).\n"
            f"  Install them with: pip install 'trajectory-trainer[gpu]'   "
            f"({', '.join(GPU_EXTRAS)})\n"
            "  To only validate the dataset, add --dry-run."
        )
    else:
        _error(
            f"the GPU extras are installed, but training is not implemented in "
            f"trajectory-trainer {__version__} yet; nothing was trained.\n"
            "  To validate the dataset, add --dry-run."
        )
    return EXIT_UNAVAILABLE


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    script, _model, _lora = parser.parse_args_into_dataclasses(argv)
    if script.dry_run:
        return dry_run(script)
    return train_unavailable()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
