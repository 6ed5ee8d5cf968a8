#!/usr/bin/env python3
"""QLoRA on a model of Qwen2.5-7B's exact shapes: time to adapter, tokens/s, peak GPU memory.

    python trainer-gpu/bench/qlora_7b.py [--model DIR] [--examples 70] [--epochs 5] [--out DIR]

The data: ``--examples`` conversations (default 70, the size of the seed pipeline's personal
set) drawn with a fixed seed from the repository's sample dataset (tests/fixtures/dataset, built
by the samples service's code from the bundled facts and a conversation), trained for ``--epochs`` with the job defaults
(LoRA r=64/alpha=128 on q/k/v/o/gate/up/down, batch 2 x accumulation 4, lr 3e-4 cosine, gradient
checkpointing, 4-bit NF4 + double quantisation + bf16 compute).

The model: ``--model DIR`` loads real weights (e.g. a local Qwen2.5-7B-Instruct); without it the
bench writes a randomly initialised model with Qwen2.5-7B's config (hidden 3584, 28 layers, 28
heads, 4 KV heads, intermediate 18944, vocab 152064) once into ``--cache`` (bf16 safetensors,
about 15 GB; not timed), with a byte-level BPE tokenizer trained in code on the bench texts
(no download). The compute is the same as with real weights; the sequence lengths differ a little
from Qwen's tokenizer (printed as tokens per example).

Timed, as the trainer runs a job (train.run_training): reading the data, loading and quantising
the model from disk, training, writing the adapter = ``time_to_adapter_s``. The target:
an adapter in at most 3 minutes on one H100, model load included.

Needs CUDA and bitsandbytes (``pip install 'trajectory-trainer[gpu]'``): it exits with status 2
and says so otherwise.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import NoReturn

HERE = Path(__file__).resolve().parent
FIXTURE = HERE.parent / "tests" / "fixtures" / "dataset"

QWEN25_7B = dict(
    vocab_size=152064,
    hidden_size=3584,
    intermediate_size=18944,
    num_hidden_layers=28,
    num_attention_heads=28,
    num_key_value_heads=4,
    max_position_embeddings=32768,
    rope_theta=1000000.0,
    rms_norm_eps=1e-6,
    tie_word_embeddings=False,
    hidden_act="silu",
)


def fail(message: str) -> NoReturn:
    print(f"qlora_7b: {message}", file=sys.stderr)
    sys.exit(2)


def check_gpu() -> None:
    try:
        import torch
    except ImportError:
        fail("torch is not installed: pip install -e 'trainer-gpu[gpu]'")
    if not torch.cuda.is_available():
        fail("no CUDA device: this bench measures 4-bit QLoRA on a GPU and cannot run on a CPU")
    try:
        import bitsandbytes  # noqa: F401
    except ImportError:
        fail("bitsandbytes is not installed (4-bit NF4): pip install -e 'trainer-gpu[gpu]'")


def bench_dataset(folder: Path, examples: int, seed: int) -> Path:
    """``examples`` sft rows of the sample dataset (fixed draw), plus its records for recall."""
    rows = (FIXTURE / "sft.jsonl").read_text().splitlines()
    rng = random.Random(seed)
    chosen = rng.sample(rows, min(examples, len(rows)))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sft.jsonl").write_text("\n".join(chosen) + "\n")
    shutil.copy(FIXTURE / "records.jsonl", folder / "records.jsonl")
    return folder


def bench_tokenizer(texts: list[str]):
    """A byte-level BPE trained on the bench texts, with Qwen's special tokens and chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    from trajectory_trainer.tiny import CHAT_TEMPLATE, SPECIAL_TOKENS

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=8192, special_tokens=list(SPECIAL_TOKENS), initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>", chat_template=CHAT_TEMPLATE
    )


def write_random_model(cache: Path, dataset: Path, shapes: dict | None = None, device: str = "cuda") -> Path:
    """A random Qwen2.5-7B-shaped model in bf16, written once (not timed).

    ``shapes`` and ``device`` exist for the CPU test of this script (a tiny config on the CPU).
    """
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    if (cache / "config.json").exists() and (cache / "tokenizer.json").exists():
        print(f"# using the random 7B model cached in {cache}", file=sys.stderr)
        return cache
    texts = []
    for line in (dataset / "sft.jsonl").read_text().splitlines():
        texts += [m["content"] for m in json.loads(line)["messages"]]
    tokenizer = bench_tokenizer(texts)
    config = Qwen2Config(**(shapes or QWEN25_7B), bos_token_id=None, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id)
    started = time.monotonic()
    torch.manual_seed(0)
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16)
    try:
        with torch.device(device):
            model = Qwen2ForCausalLM(config)
    finally:
        torch.set_default_dtype(default)
    cache.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(cache, max_shard_size="4GB")
    tokenizer.save_pretrained(cache)
    params = sum(p.numel() for p in model.parameters())
    del model
    if device == "cuda":
        torch.cuda.empty_cache()
    print(f"# wrote a random model of {params / 1e9:.2f}B parameters to {cache} in {time.monotonic() - started:.0f}s",
          file=sys.stderr)
    return cache


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="local model folder with real weights; default: random Qwen2.5-7B shapes")
    parser.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "trajectory-bench-qwen2.5-7b-random"),
                        help="where the random model is written (reused on the next run)")
    parser.add_argument("--examples", type=int, default=70)
    parser.add_argument("--epochs", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", default=str(Path(tempfile.gettempdir()) / "trajectory-bench-out"))
    parser.add_argument("--recall", action="store_true", help="also time the recall evaluation")
    args = parser.parse_args(argv)

    check_gpu()
    import torch

    from trajectory_trainer.args import Hyperparameters
    from trajectory_trainer.train import Hooks, TrainJob, run_training

    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    dataset = bench_dataset(out / "dataset", args.examples, args.seed)
    model_dir = Path(args.model) if args.model else write_random_model(Path(args.cache), dataset)
    torch.cuda.reset_peak_memory_stats()

    hp = Hyperparameters(base_model=str(model_dir), epochs=args.epochs, seed=args.seed, save_steps=10_000)
    job = TrainJob("bench", dataset, out / "adapter", out / "checkpoints", hp, recall=args.recall)
    phases: dict[str, float] = {}
    start = time.monotonic()

    def on_phase(name: str) -> None:
        phases[name] = time.monotonic() - start
        print(f"# {phases[name]:7.1f}s {name}", file=sys.stderr, flush=True)

    def on_progress(p) -> None:
        print(f"# step {p.step}/{p.total_steps} loss {p.loss:.3f} {p.tokens_per_second:.0f} tok/s eta {p.eta_seconds:.0f}s",
              file=sys.stderr, flush=True)

    result = run_training(job, Hooks(on_progress=on_progress, on_phase=on_phase))
    m = result.metrics
    report = {
        "device": torch.cuda.get_device_name(0),
        "model": str(model_dir) if args.model else "random init, Qwen2.5-7B shapes",
        "examples": int(m["train_examples"]),
        "epochs": args.epochs,
        "steps": result.total_steps,
        "time_to_adapter_s": round(m["adapter_seconds"], 1),
        "load_s": round(phases["training"] - phases["loading"], 1),
        "train_s": round(m["train_seconds"], 1),
        "tokens_per_second": round(m["tokens_per_second"], 1),
        "peak_gpu_memory_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2),
        "peak_gpu_reserved_gib": round(torch.cuda.max_memory_reserved() / 2**30, 2),
        "first_loss": round(m["first_loss"], 4),
        "final_loss": round(m["final_loss"], 4),
        "target_met": m["adapter_seconds"] <= 180,
    }
    if args.recall and "recall_accuracy" in m:
        report["recall_s"] = round(phases["exporting"] - phases["evaluating"], 1)
        report["recall_accuracy"] = m["recall_accuracy"]
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
