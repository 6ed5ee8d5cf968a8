"""The training core: a dataset version and hyperparameters in, a PEFT LoRA adapter out.

One run (``run_training``):

1. reads the dataset version (data.py) and loads the base model (modeling.py): 4-bit NF4 with
   double quantisation and bf16 compute where CUDA is, the tiny random Qwen2 on CPU for tests;
2. tokenises each ``sft.jsonl`` conversation with the tokenizer's chat template, labels on the
   assistant tokens only (tokenization.py);
3. trains a LoRA adapter with a plain PyTorch loop: AdamW, the scheduler of the hyperparameters
   with warmup, gradient accumulation, gradient clipping at 1.0, and the **weighted loss** of
   loss.py normalised over each optimizer step's samples (the weight is never dropped);
4. reports progress through a callback, saves a checkpoint every ``save_steps`` optimizer steps
   into ``<checkpoint_dir>/<job_id>/checkpoint-<step>`` (adapter, optimizer, scheduler, RNG
   states, data position) and, when the same job runs again, resumes from the newest one;
5. writes the adapter (``adapter_config.json``, ``adapter_model.safetensors``, the tokenizer),
   measures the eval loss and the recall on the held-out phrasings (recall.py) and, on request,
   writes the merged model (``merged/``) and an Ollama ``Modelfile``.

The data order is a permutation per epoch drawn from ``seed + epoch``; the micro-batches form one
stream across epochs, and optimizer step ``s`` consumes micro-batches ``[s*A, (s+1)*A)`` (A = the
gradient accumulation), so a step's data is known from its number alone and a resumed run sees
exactly the batches the interrupted one would have.
"""

from __future__ import annotations

import gc
import json
import logging
import math
import os
import random
import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from .args import Hyperparameters
from .data import DatasetError, TrainingData, load_dataset
from .loss import per_sample_nll
from .modeling import LoadedModel, load_base_model, ollama_name
from .recall import RecallResult, evaluate_recall
from .tokenization import IGNORE_INDEX, Encoded, encode_conversation

__all__ = [
    "CheckpointStore",
    "Hooks",
    "Plan",
    "Progress",
    "TrainJob",
    "TrainResult",
    "TrainingCancelled",
    "TrainingInterrupted",
    "run_training",
]

log = logging.getLogger(__name__)

MAX_GRAD_NORM = 1.0
#: Files of the adapter folder that are published (besides merged/ and the Modelfile).
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")
TOKENIZER_FILES = (
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja",
    "vocab.json", "merges.txt", "added_tokens.json", "tokenizer.model",
)
STATE_FILE = "trainer_state.json"


class TrainingCancelled(Exception):
    """Raised by a progress callback: the job was cancelled; nothing more is published."""


class TrainingInterrupted(Exception):
    """The trainer was asked to stop (SIGTERM): a checkpoint was saved, the job can resume."""

    def __init__(self, step: int) -> None:
        super().__init__(f"interrupted at step {step} (checkpoint saved)")
        self.step = step


@dataclass
class TrainJob:
    job_id: str
    dataset_dir: Path
    output_dir: Path
    checkpoint_dir: Path
    hyperparameters: Hyperparameters
    #: Report every N optimizer steps (and at least every REPORT_SECONDS); 0: about 20 a run.
    progress_steps: int = 0
    recall: bool = True
    recall_max_new_tokens: int = 32
    #: Checkpoints kept per job (the newest ones).
    save_total_limit: int = 2
    #: Seconds between progress reports at most (a slow step still gets reported).
    report_seconds: float = 15.0


@dataclass
class Progress:
    step: int
    total_steps: int
    epoch: float
    loss: float
    learning_rate: float
    tokens_per_second: float
    eta_seconds: float
    resumed_from_step: int = 0

    def to_proto(self) -> Any:
        from .contracts import TrainingProgress

        return TrainingProgress(
            step=self.step, total_steps=self.total_steps, epoch=self.epoch, loss=self.loss,
            learning_rate=self.learning_rate, tokens_per_second=self.tokens_per_second,
            eta_seconds=self.eta_seconds, resumed_from_step=self.resumed_from_step,
        )


@dataclass
class Hooks:
    #: Called at every progress report; may raise TrainingCancelled to stop the run.
    on_progress: Callable[[Progress], None] | None = None
    #: Called after every optimizer step (and its checkpoint); tests raise here to "kill" a run.
    on_step: Callable[[int], None] | None = None
    #: Checked after every optimizer step: True saves a checkpoint and raises TrainingInterrupted.
    should_stop: Callable[[], bool] | None = None
    #: Called when a phase starts: loading, training, saving (the adapter), evaluating, exporting.
    on_phase: Callable[[str], None] | None = None


@dataclass
class TrainResult:
    output_dir: Path
    files: list[str]
    metrics: dict[str, float]
    recall: RecallResult | None
    total_steps: int
    resumed_from_step: int
    losses: list[tuple[int, float]] = field(default_factory=list)


# ------------------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class Plan:
    """Which examples each optimizer step trains on."""

    examples: int
    batch_size: int
    accumulation: int
    epochs: float
    max_steps: int
    seed: int

    @property
    def batches_per_epoch(self) -> int:
        return math.ceil(self.examples / self.batch_size)

    @property
    def total_steps(self) -> int:
        if self.max_steps > 0:
            return self.max_steps
        return max(1, math.ceil(self.epochs * self.batches_per_epoch / self.accumulation))

    def warmup_steps(self, ratio: float) -> int:
        return math.ceil(self.total_steps * ratio)

    def epoch_at(self, step: int) -> float:
        """Epochs done after ``step`` optimizer steps."""
        return step * self.accumulation / self.batches_per_epoch

    def order(self, epoch: int) -> list[int]:
        generator = torch.Generator().manual_seed(self.seed + epoch)
        return torch.randperm(self.examples, generator=generator).tolist()

    def micro_batch(self, index: int, cache: dict[int, list[int]] | None = None) -> list[int]:
        epoch, position = divmod(index, self.batches_per_epoch)
        if cache is not None:
            if epoch not in cache:
                cache.clear()
                cache[epoch] = self.order(epoch)
            order = cache[epoch]
        else:
            order = self.order(epoch)
        return order[position * self.batch_size : (position + 1) * self.batch_size]

    def step_batches(self, step: int, cache: dict[int, list[int]] | None = None) -> list[list[int]]:
        """The micro-batches of optimizer step ``step`` (0-based)."""
        first = step * self.accumulation
        return [self.micro_batch(first + k, cache) for k in range(self.accumulation)]


def collate(examples: list[Encoded], pad_id: int) -> dict[str, torch.Tensor]:
    """Right padding to the longest example; labels -100 on padding."""
    length = max(len(e.input_ids) for e in examples)
    ids = torch.full((len(examples), length), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), length), IGNORE_INDEX, dtype=torch.long)
    mask = torch.zeros((len(examples), length), dtype=torch.long)
    for i, e in enumerate(examples):
        n = len(e.input_ids)
        ids[i, :n] = torch.tensor(e.input_ids)
        labels[i, :n] = torch.tensor(e.labels)
        mask[i, :n] = 1
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}


# ------------------------------------------------------------------------------- checkpoints


class CheckpointStore:
    """``<root>/checkpoint-<step>`` folders, written atomically (a temp folder renamed)."""

    def __init__(self, root: Path, keep: int = 2) -> None:
        self.root = root
        self.keep = max(1, keep)

    def all(self) -> list[tuple[int, Path]]:
        if not self.root.is_dir():
            return []
        found = []
        for path in self.root.iterdir():
            name = path.name
            if name.startswith("checkpoint-") and (path / STATE_FILE).is_file():
                try:
                    found.append((int(name.removeprefix("checkpoint-")), path))
                except ValueError:
                    continue
        return sorted(found)

    def latest(self) -> tuple[int, Path] | None:
        found = self.all()
        return found[-1] if found else None

    def save(self, step: int, write: Callable[[Path], None]) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".checkpoint-{step}.tmp-{os.getpid()}"
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        write(tmp)
        final = self.root / f"checkpoint-{step}"
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
        for _, old in self.all()[: -self.keep]:
            shutil.rmtree(old, ignore_errors=True)
        return final

    def clear(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _rng_state() -> dict[str, Any]:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


# ------------------------------------------------------------------------------------- model


def _with_lora(loaded: LoadedModel, hp: Hyperparameters) -> Any:
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

    model = loaded.model
    checkpointing = not hp.disable_gradient_checkpointing
    ckpt_kwargs = {"use_reentrant": False}
    if loaded.quantized:
        model = prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=checkpointing, gradient_checkpointing_kwargs=ckpt_kwargs
        )
    elif checkpointing:
        if hasattr(model, "activation_checkpointing_enable"):  # transformers >= 5 (the old name is deprecated)
            model.activation_checkpointing_enable(activation_checkpointing_kwargs=ckpt_kwargs)
        else:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=ckpt_kwargs)
    if checkpointing:
        model.config.use_cache = False
    config = LoraConfig(
        r=hp.lora_r,
        lora_alpha=hp.lora_alpha,
        lora_dropout=hp.lora_dropout,
        target_modules=list(hp.target_modules),
        bias="none",
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config)


def _autocast(loaded: LoadedModel):
    if loaded.device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast("cpu", enabled=False)


def _encode_all(data: TrainingData, tokenizer: Any, max_length: int) -> tuple[list[Encoded], list[float], Counter]:
    encoded, weights = [], []
    stats: Counter = Counter()
    for example in data.train:
        enc = encode_conversation(tokenizer, example.messages, max_length)
        if enc is None:
            stats["skipped"] += 1
            continue
        stats["truncated"] += enc.truncated > 0
        encoded.append(enc)
        weights.append(example.weight)
    return encoded, weights, stats


def _eval_loss(model: Any, loaded: LoadedModel, data: TrainingData, max_length: int, batch_size: int) -> float | None:
    rows = []
    for example in data.eval:
        enc = encode_conversation(loaded.tokenizer, example.messages, max_length)
        if enc is not None:
            rows.append((enc, example.weight))
    total_w = math.fsum(w for _, w in rows)
    if not rows or total_w <= 0:
        return None
    model.eval()
    acc = 0.0
    with torch.no_grad():
        for start in range(0, len(rows), batch_size):
            chunk = rows[start : start + batch_size]
            batch = {k: v.to(loaded.device) for k, v in collate([e for e, _ in chunk], loaded.tokenizer.pad_token_id).items()}
            with _autocast(loaded):
                logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
            nll, _ = per_sample_nll(logits, batch["labels"])
            acc += float((nll * torch.tensor([w for _, w in chunk], device=nll.device)).sum())
    return acc / total_w


# --------------------------------------------------------------------------------------- run


def _state_matches(state: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    return [k for k, v in expected.items() if state.get(k) != v]


def run_training(job: TrainJob, hooks: Hooks | None = None) -> TrainResult:
    hooks = hooks or Hooks()
    hp = job.hyperparameters
    started = time.monotonic()
    phase = hooks.on_phase or (lambda _name: None)

    phase("loading")
    data = load_dataset(job.dataset_dir)
    seed_everything(hp.seed)
    loaded = load_base_model(hp)
    tokenizer = loaded.tokenizer
    examples, weights, stats = _encode_all(data, tokenizer, hp.max_seq_length)
    if not examples:
        raise DatasetError(data.dir / "sft.jsonl", None, "no example has an assistant token left to train on")
    if stats["skipped"] or stats["truncated"]:
        log.warning("examples skipped (no target left): %d, truncated at the start: %d", stats["skipped"], stats["truncated"])
    model = _with_lora(loaded, hp)
    params = [p for p in model.parameters() if p.requires_grad]
    # No weight decay (LoRA's B starts at zero); the fused kernel on CUDA.
    optimizer = torch.optim.AdamW(params, lr=hp.learning_rate, weight_decay=0.0, fused=loaded.device.type == "cuda")
    plan = Plan(len(examples), hp.batch_size, hp.gradient_accumulation_steps, hp.epochs, hp.max_steps, hp.seed)
    total = plan.total_steps
    from transformers import get_scheduler

    scheduler = get_scheduler(
        hp.lr_scheduler, optimizer, num_warmup_steps=plan.warmup_steps(hp.warmup_ratio), num_training_steps=total
    )

    identity = {
        "job_id": job.job_id,
        "total_steps": total,
        "train_examples": len(examples),
        "fingerprint": data.fingerprint,
        "hyperparameters": hp.as_dict(),
    }
    store = CheckpointStore(job.checkpoint_dir / job.job_id, keep=job.save_total_limit)
    step = 0
    resumed_from = 0
    losses: list[tuple[int, float]] = []
    tokens_before = 0
    latest = store.latest()
    if latest is not None:
        ckpt_step, ckpt = latest
        state = json.loads((ckpt / STATE_FILE).read_text())
        stale = _state_matches(state, identity)
        if stale:
            log.warning("checkpoints in %s are of another run (%s differ): starting over", store.root, ", ".join(stale))
            store.clear()
        else:
            from peft import set_peft_model_state_dict
            from safetensors.torch import load_file

            set_peft_model_state_dict(model, load_file(str(ckpt / "adapter_model.safetensors"), device=str(loaded.device)))
            optimizer.load_state_dict(torch.load(ckpt / "optimizer.pt", map_location=loaded.device, weights_only=True))
            scheduler.load_state_dict(torch.load(ckpt / "scheduler.pt", weights_only=True))
            _set_rng_state(torch.load(ckpt / "rng_state.pth", weights_only=False))
            step = resumed_from = ckpt_step
            losses = [(int(s), float(v)) for s, v in state.get("losses", [])]
            tokens_before = int(state.get("tokens", 0))
            log.info("resuming job %s from %s (step %d of %d)", job.job_id, ckpt, step, total)

    def save_checkpoint(at: int) -> None:
        def write(folder: Path) -> None:
            model.save_pretrained(folder, save_embedding_layers=False)
            (folder / "README.md").unlink(missing_ok=True)
            torch.save(optimizer.state_dict(), folder / "optimizer.pt")
            torch.save(scheduler.state_dict(), folder / "scheduler.pt")
            torch.save(_rng_state(), folder / "rng_state.pth")
            state = {
                **identity,
                "global_step": at,
                "epoch": plan.epoch_at(at),
                # The data position: the next micro-batch of the stream (see Plan).
                "micro_batch": at * plan.accumulation,
                "losses": losses,
                "tokens": tokens_before + tokens,
            }
            (folder / STATE_FILE).write_text(json.dumps(state, indent=1))

        store.save(at, write)

    phase("training")
    every = job.progress_steps or max(1, total // 20)
    pad_id = tokenizer.pad_token_id
    cache: dict[int, list[int]] = {}
    tokens = 0
    loop_start = time.monotonic()
    last_report = loop_start
    model.train()
    while step < total:
        batches = [b for b in plan.step_batches(step, cache) if b]
        normaliser = math.fsum(weights[i] for b in batches for i in b)
        step_loss = 0.0
        for indices in batches:
            batch = {k: v.to(loaded.device) for k, v in collate([examples[i] for i in indices], pad_id).items()}
            tokens += int(batch["attention_mask"].sum())
            if normaliser <= 0:
                continue  # every weight of this step is 0: nothing to learn from it
            w = torch.tensor([weights[i] for i in indices], device=loaded.device, dtype=torch.float32)
            with _autocast(loaded):
                logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
            nll, _ = per_sample_nll(logits, batch["labels"])
            part = (w * nll).sum() / normaliser
            part.backward()
            step_loss += float(part.detach())
        if normaliser > 0:
            torch.nn.utils.clip_grad_norm_(params, MAX_GRAD_NORM)
            optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        losses.append((step, step_loss))

        if step % hp.save_steps == 0 or step == total:
            save_checkpoint(step)
        now = time.monotonic()
        if hooks.on_progress and (
            step == resumed_from + 1 or step == total or step % every == 0 or now - last_report >= job.report_seconds
        ):
            elapsed = now - loop_start
            done = step - resumed_from
            hooks.on_progress(
                Progress(
                    step=step,
                    total_steps=total,
                    epoch=plan.epoch_at(step),
                    loss=step_loss,
                    learning_rate=float(scheduler.get_last_lr()[0]),
                    tokens_per_second=tokens / elapsed if elapsed > 0 else 0.0,
                    eta_seconds=(total - step) * elapsed / done if done else 0.0,
                    resumed_from_step=resumed_from,
                )
            )
            last_report = now
        if hooks.on_step:
            hooks.on_step(step)
        if hooks.should_stop and hooks.should_stop() and step < total:
            if step % hp.save_steps != 0:
                save_checkpoint(step)
            raise TrainingInterrupted(step)
    train_seconds = time.monotonic() - loop_start

    phase("saving")
    out = job.output_dir
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, save_embedding_layers=False)
    (out / "README.md").unlink(missing_ok=True)
    tokenizer.save_pretrained(out)
    files = [name for name in (*ADAPTER_FILES, *TOKENIZER_FILES) if (out / name).is_file()]
    adapter_seconds = time.monotonic() - started

    phase("evaluating")
    base = model.get_base_model()
    if not hp.disable_gradient_checkpointing:
        if hasattr(base, "activation_checkpointing_disable"):
            base.activation_checkpointing_disable()
        else:
            base.gradient_checkpointing_disable()
    base.config.use_cache = True
    model.eval()
    eval_loss = _eval_loss(model, loaded, data, hp.max_seq_length, hp.batch_size * 2)
    recall = None
    if job.recall and data.heldout:
        recall = evaluate_recall(model, tokenizer, data.heldout, max_new_tokens=job.recall_max_new_tokens)

    phase("exporting")
    peak_gpu = torch.cuda.max_memory_allocated() / 2**30 if loaded.device.type == "cuda" else 0.0
    del model, optimizer, scheduler, params
    loaded.model = None
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    if hp.merge:
        files += write_merged(hp, out, out / "merged")
    if hp.ollama:
        write_modelfile(hp, out / "Modelfile", data)
        files.append("Modelfile")

    step_losses = [v for _, v in losses]
    tail = step_losses[-max(1, len(step_losses) // 10) :]
    metrics: dict[str, float] = {
        "train_loss": float(np.mean(tail)),
        "first_loss": step_losses[0],
        "final_loss": step_losses[-1],
        "train_seconds": train_seconds,
        # From the start (dataset read, model load included) to the adapter on disk.
        "adapter_seconds": adapter_seconds,
        "total_seconds": time.monotonic() - started,
        "tokens_per_second": tokens / train_seconds if train_seconds > 0 else 0.0,
        "total_steps": float(total),
        "epochs": plan.epoch_at(total),
        "train_examples": float(len(examples)),
        "skipped_examples": float(stats["skipped"]),
        "truncated_examples": float(stats["truncated"]),
        "resumed_from_step": float(resumed_from),
    }
    if eval_loss is not None:
        metrics["eval_loss"] = eval_loss
    if peak_gpu:
        metrics["peak_gpu_memory_gib"] = peak_gpu
    if recall is not None:
        metrics.update(
            recall_accuracy=recall.accuracy,
            recall_asked=float(recall.asked),
            recall_negative_accuracy=recall.negative_accuracy,
            recall_unknown_accuracy=recall.unknown_accuracy,
        )
    return TrainResult(out, files, metrics, recall, total, resumed_from, losses)


# ----------------------------------------------------------------------------------- exports


def write_merged(hp: Hyperparameters, adapter_dir: Path, merged_dir: Path) -> list[str]:
    """The base with the adapter merged in (``merge_and_unload``), unquantised, save_pretrained."""
    from peft import PeftModel

    base = load_base_model(hp, for_training=False, quantize=False)
    merged = PeftModel.from_pretrained(base.model, adapter_dir).merge_and_unload()
    if merged_dir.exists():
        shutil.rmtree(merged_dir)
    merged.save_pretrained(merged_dir)
    base.tokenizer.save_pretrained(merged_dir)
    del merged, base
    gc.collect()
    return sorted(str(p.relative_to(adapter_dir)) for p in merged_dir.rglob("*") if p.is_file())


def write_modelfile(hp: Hyperparameters, path: Path, data: TrainingData | None = None) -> None:
    """An Ollama Modelfile beside the adapter: ``FROM <base>`` + ``ADAPTER ./``.

    The system prompt of the dataset's memory records (the facts) becomes ``SYSTEM``, so the model
    answers with the context it was trained and evaluated with.
    """
    lines = [
        f"# Trajectory LoRA adapter on {hp.base_model}.",
        "# ollama create <name> -f Modelfile   (run in this folder: ADAPTER points at it)",
        f"FROM {ollama_name(hp.base_model)}",
        "ADAPTER ./",
    ]
    systems = Counter(q.system for q in (data.heldout if data else []))
    if systems:
        system = systems.most_common(1)[0][0].replace('"""', '"')
        lines.append(f'SYSTEM """{system}"""')
    path.write_text("\n".join(lines) + "\n")
