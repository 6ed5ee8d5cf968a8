"""The training core: a dataset version and hyperparameters in, a PEFT LoRA adapter out.

One run (``run_training``):

1. reads the dataset version (data.py) and loads the base model (modeling.py): 4-bit NF4 with
   double quantisation and bf16 compute where CUDA is, the tiny random Qwen2 on CPU for tests;
2. tokenises each ``sft.jsonl`` conversation with the tokenizer's chat template, labels on the
   assistant tokens only (tokenization.py);
3. trains a LoRA adapter with ``transformers.Trainer`` (:class:`WeightedLossTrainer`): AdamW, the
   scheduler of the hyperparameters with warmup, gradient accumulation, clipping at 1.0, gradient
   checkpointing, bf16 on CUDA, and the **weighted loss** of loss.py normalised over each
   optimizer step's samples (the weight column is kept, never dropped); multi-GPU through
   accelerate (``accelerate launch``) comes with it;
4. reports progress through a ``TrainerCallback`` (:class:`ProgressCallback`); the Trainer saves
   a checkpoint every ``save_steps`` optimizer steps into ``<checkpoint_dir>/<job_id>/checkpoint-<step>``
   (adapter, optimizer, scheduler, RNG states, ``trainer_state.json``), keeps the newest two and,
   when the same job runs again, resumes from the newest complete one;
5. writes the adapter (``adapter_config.json``, ``adapter_model.safetensors``, the tokenizer),
   measures the eval loss and the recall on the held-out phrasings (recall.py) and, on request,
   writes the merged model (``merged/``) and an Ollama ``Modelfile``.

Resume: the Trainer restores the adapter, optimizer, scheduler and RNG states and skips the
batches already trained in the epoch; its sampler draws each epoch's order from ``seed`` and the
epoch number, so a resumed run trains on the batches the interrupted one would have and, on the
CPU, ends with the same adapter bit for bit (tests/test_resume.py).
"""

from __future__ import annotations

import gc
import json
import logging
import math
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import Trainer, TrainerCallback, TrainerState, TrainingArguments

from .args import Hyperparameters
from .data import DatasetError, TrainingData, load_dataset
from .loss import per_sample_nll, weighted_loss
from .modeling import LoadedModel, load_base_model, ollama_name
from .recall import RecallResult, evaluate_recall
from .tokenization import IGNORE_INDEX, Encoded, encode_conversation

__all__ = [
    "Hooks",
    "Progress",
    "ProgressCallback",
    "SftDataset",
    "TrainJob",
    "TrainResult",
    "TrainingCancelled",
    "TrainingInterrupted",
    "WeightedLossTrainer",
    "build_trainer",
    "collate",
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
#: Written last into a checkpoint by the Trainer: a folder without it was cut short while saving.
STATE_FILE = "trainer_state.json"
#: What the checkpoints of a job folder were trained on; other data or hyperparameters start over.
RUN_FILE = "trajectory_run.json"


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
    #: Called after every optimizer step, before its checkpoint; tests raise here to "kill" a run.
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


# -------------------------------------------------------------------------------------- data


class SftDataset(torch.utils.data.Dataset):
    """Tokenised conversations with their weights: the rows the Trainer samples."""

    def __init__(self, examples: list[Encoded], weights: list[float]) -> None:
        if len(examples) != len(weights):
            raise ValueError("one weight per example")
        self.examples = examples
        self.weights = weights

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return {"example": self.examples[index], "weight": self.weights[index]}


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


@dataclass
class WeightedCollator:
    """``collate`` plus the ``weight`` column (float32), which the loss reads."""

    pad_id: int

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        batch = collate([r["example"] for r in rows], self.pad_id)
        batch["weight"] = torch.tensor([r["weight"] for r in rows], dtype=torch.float32)
        return batch


# ----------------------------------------------------------------------------------- trainer


class WeightedLossTrainer(Trainer):
    """A ``Trainer`` whose loss is the per-sample weighted mean over each optimizer step.

    ``get_batch_samples`` already draws all micro-batches of an optimizer step before the first
    forward pass (to count tokens for ``num_items_in_batch``); here it sums their weights instead
    (over every process under distributed training), and ``compute_loss`` divides each
    micro-batch's ``sum_i w_i * nll_i`` by that sum (loss.weighted_loss), so the accumulated
    gradient is exactly that of ``sum_i w_i * nll_i / sum_i w_i`` over the step's samples.
    """

    #: compute_loss divides by the whole step's weight: training_step must not divide by the
    #: accumulation steps again.
    loss_is_scaled_for_ga = True

    def __init__(self, *args: Any, warmup_ratio: float = 0.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.warmup_ratio = warmup_ratio

    def get_batch_samples(self, epoch_iterator: Any, num_batches: int, device: torch.device) -> tuple[list, Any]:
        batch_samples, _tokens = super().get_batch_samples(epoch_iterator, num_batches, device)
        total = sum((batch["weight"].double().sum() for batch in batch_samples), torch.zeros((), dtype=torch.float64))
        if self.args.world_size > 1:
            total = self.accelerator.gather(total.to(device)).sum()
        return batch_samples, total.to(device)

    def compute_loss(
        self, model: Any, inputs: dict[str, Any], return_outputs: bool = False, num_items_in_batch: Any = None
    ) -> Any:
        weights = inputs.pop("weight")
        labels = inputs.pop("labels")
        outputs = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"])
        # Outside training (num_items_in_batch is then a token count, or None) the batch is its own step.
        normaliser = num_items_in_batch if model.training and num_items_in_batch is not None else None
        loss = weighted_loss(outputs.logits, labels, weights, normaliser)
        if self.args.world_size > 1 and normaliser is not None:
            # DDP averages the processes' gradients; the normaliser already covers all of them.
            loss = loss * self.accelerator.num_processes
        return (loss, outputs) if return_outputs else loss

    def create_scheduler(self, num_training_steps: int, optimizer: Any = None) -> Any:
        # The job's warmup is a share of the steps, 1.0 included (TrainingArguments reads 1 as one step).
        self.args.warmup_steps = math.ceil(num_training_steps * self.warmup_ratio)
        return super().create_scheduler(num_training_steps, optimizer)


class ProgressCallback(TrainerCallback):
    """The job's progress reports, the stop request (SIGTERM) and the test hook, as a callback."""

    def __init__(self, job: TrainJob, hooks: Hooks) -> None:
        self.job = job
        self.hooks = hooks
        self.resumed_from = 0
        self.started = 0.0
        self.last_report = 0.0
        self.tokens_at_start = 0
        self.every = 1
        self.interrupted_at: int | None = None

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.resumed_from = state.global_step
        self.started = self.last_report = time.monotonic()
        self.tokens_at_start = int(state.num_input_tokens_seen or 0)
        self.every = self.job.progress_steps or max(1, state.max_steps // 20)

    def tokens_per_second(self, state: Any) -> float:
        elapsed = time.monotonic() - self.started
        return (int(state.num_input_tokens_seen or 0) - self.tokens_at_start) / elapsed if elapsed > 0 else 0.0

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        step = state.global_step
        if self.hooks.on_step:
            self.hooks.on_step(step)
        if self.hooks.should_stop and self.hooks.should_stop() and step < state.max_steps:
            self.interrupted_at = step
            control.should_save = True
            control.should_training_stop = True

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, float] | None = None, **kwargs: Any) -> None:
        # The Trainer logs every step (logging_steps=1) after on_step_end: the step's loss is known here.
        if not self.hooks.on_progress or not logs or "loss" not in logs:
            return
        step, total = state.global_step, state.max_steps
        now = time.monotonic()
        due = step == self.resumed_from + 1 or step == total or step % self.every == 0
        if not due and now - self.last_report < self.job.report_seconds:
            return
        done = step - self.resumed_from
        elapsed = now - self.started
        scheduler = kwargs.get("lr_scheduler")
        self.hooks.on_progress(
            Progress(
                step=step,
                total_steps=total,
                epoch=float(state.epoch or 0.0),
                loss=float(logs["loss"]),
                # The rate of the next step, as the scheduler stands after this one.
                learning_rate=float(scheduler.get_last_lr()[0]) if scheduler else float(logs.get("learning_rate", 0.0)),
                tokens_per_second=self.tokens_per_second(state),
                eta_seconds=(total - step) * elapsed / done if done else 0.0,
                resumed_from_step=self.resumed_from,
            )
        )
        self.last_report = now


def training_arguments(
    hp: Hyperparameters, output_dir: Path, loaded: LoadedModel, save_total_limit: int = 2
) -> TrainingArguments:
    """The job's hyperparameters as ``TrainingArguments``."""
    cuda = loaded.device.type == "cuda"
    return TrainingArguments(
        output_dir=str(output_dir),
        per_device_train_batch_size=hp.batch_size,
        gradient_accumulation_steps=hp.gradient_accumulation_steps,
        learning_rate=hp.learning_rate,
        lr_scheduler_type=hp.lr_scheduler,
        num_train_epochs=hp.epochs,
        max_steps=hp.max_steps if hp.max_steps > 0 else -1,
        # No weight decay (LoRA's B starts at zero); the fused kernel on CUDA.
        weight_decay=0.0,
        optim="adamw_torch_fused" if cuda else "adamw_torch",
        max_grad_norm=MAX_GRAD_NORM,
        bf16=cuda and loaded.dtype == torch.bfloat16,
        activation_checkpointing=not hp.disable_gradient_checkpointing,
        activation_checkpointing_kwargs={"use_reentrant": False},
        save_strategy="steps",
        save_steps=hp.save_steps,
        save_total_limit=save_total_limit,
        logging_strategy="steps",
        logging_steps=1,
        include_num_input_tokens_seen="non_padding",
        report_to="none",
        disable_tqdm=True,
        seed=hp.seed,
        data_seed=hp.seed,
        # The collator needs the weight column; the model never sees it.
        remove_unused_columns=False,
        dataloader_num_workers=0,
        use_cpu=not cuda,
    )


def build_trainer(
    model: Any, loaded: LoadedModel, hp: Hyperparameters, dataset: SftDataset, output_dir: Path,
    callbacks: list[TrainerCallback] | None = None, save_total_limit: int = 2,
) -> WeightedLossTrainer:
    """The Trainer of one job (a LoRA model from :func:`with_lora`)."""
    from transformers.trainer_callback import PrinterCallback

    trainer = WeightedLossTrainer(
        model=model,
        args=training_arguments(hp, output_dir, loaded, save_total_limit),
        train_dataset=dataset,
        data_collator=WeightedCollator(loaded.tokenizer.pad_token_id),
        callbacks=callbacks or [],
        warmup_ratio=hp.warmup_ratio,
    )
    # Its log lines would go to stdout, where the CLI writes its JSON summary; progress has its callback.
    trainer.remove_callback(PrinterCallback)
    return trainer


# ------------------------------------------------------------------------------------- model


def seed_everything(seed: int) -> None:
    from transformers import set_seed

    set_seed(seed)


def with_lora(loaded: LoadedModel, hp: Hyperparameters) -> Any:
    """The base model with a fresh LoRA adapter (its initial weights drawn from ``hp.seed``)."""
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

    model = loaded.model
    checkpointing = not hp.disable_gradient_checkpointing
    if loaded.quantized:
        model = prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=checkpointing, gradient_checkpointing_kwargs={"use_reentrant": False}
        )
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
    seed_everything(hp.seed)
    return get_peft_model(model, config)


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
    """The weighted mean NLL over the whole eval split (one normaliser, not a mean of batch means)."""
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
    autocast = (
        torch.autocast("cuda", dtype=torch.bfloat16) if loaded.device.type == "cuda" else torch.autocast("cpu", enabled=False)
    )
    with torch.no_grad(), autocast:
        for start in range(0, len(rows), batch_size):
            chunk = rows[start : start + batch_size]
            batch = {k: v.to(loaded.device) for k, v in collate([e for e, _ in chunk], loaded.tokenizer.pad_token_id).items()}
            logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
            nll, _ = per_sample_nll(logits, batch["labels"])
            acc += float((nll * torch.tensor([w for _, w in chunk], device=nll.device)).sum())
    return acc / total_w


# ------------------------------------------------------------------------------- checkpoints


def _checkpoints(root: Path) -> list[tuple[int, Path]]:
    found = []
    if root.is_dir():
        for path in root.iterdir():
            step = path.name.removeprefix("checkpoint-")
            if path.is_dir() and path.name.startswith("checkpoint-") and step.isdigit():
                found.append((int(step), path))
    return sorted(found)


def resume_checkpoint(root: Path, identity: dict[str, Any]) -> Path | None:
    """The newest complete checkpoint of this run in ``root``, or None (start over).

    Checkpoints of another run (other data or hyperparameters, per :data:`RUN_FILE`) are removed,
    and so are folders that a kill cut short while saving (the Trainer writes ``trainer_state.json``
    last, and rotates old checkpoints out only after it).
    """
    run_file = root / RUN_FILE
    if root.is_dir():
        try:
            previous = json.loads(run_file.read_text())
        except (OSError, ValueError):
            previous = None
        if previous != identity:
            if _checkpoints(root):
                stale = sorted(k for k in identity if previous is None or previous.get(k) != identity[k])
                log.warning("checkpoints in %s are of another run (%s differ): starting over", root, ", ".join(stale))
            shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True)
    run_file.write_text(json.dumps(identity, indent=1, sort_keys=True))
    latest = None
    for _step, path in _checkpoints(root):
        if (path / STATE_FILE).is_file():
            latest = path
        else:
            log.warning("removing %s: cut short while saving", path)
            shutil.rmtree(path, ignore_errors=True)
    return latest


def _finished_state(checkpoint: Path | None) -> TrainerState | None:
    """The checkpoint's TrainerState when it is the last step of its run, else None."""
    if checkpoint is None:
        return None
    state = TrainerState.load_from_json(str(checkpoint / STATE_FILE))
    return state if state.max_steps > 0 and state.global_step >= state.max_steps else None


# --------------------------------------------------------------------------------------- run


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
    peft_model = with_lora(loaded, hp)

    identity = {
        "job_id": job.job_id,
        "train_examples": len(examples),
        "fingerprint": data.fingerprint,
        "hyperparameters": hp.as_dict(),
    }
    run_dir = job.checkpoint_dir / job.job_id
    resume_from = resume_checkpoint(run_dir, identity)
    progress = ProgressCallback(job, hooks)
    trainer = build_trainer(peft_model, loaded, hp, SftDataset(examples, weights), run_dir, [progress], job.save_total_limit)
    if resume_from is not None:
        log.info("resuming job %s from %s", job.job_id, resume_from)

    phase("training")
    loop_start = time.monotonic()
    finished = _finished_state(resume_from)
    if finished is not None and resume_from is not None:
        # The run had ended (a trainer that died before publishing): the Trainer would train one
        # step past the end from here, so the adapter is taken from the checkpoint as it is.
        from peft import set_peft_model_state_dict
        from safetensors.torch import load_file

        set_peft_model_state_dict(peft_model, load_file(str(resume_from / "adapter_model.safetensors")))
        state = finished
        progress.resumed_from = state.global_step
    else:
        trainer.train(resume_from_checkpoint=str(resume_from) if resume_from is not None else None)
        state = trainer.state
    train_seconds = time.monotonic() - loop_start
    total = state.max_steps
    if progress.interrupted_at is not None:
        raise TrainingInterrupted(progress.interrupted_at)
    losses = [(int(h["step"]), float(h["loss"])) for h in state.log_history if "loss" in h]
    tokens = int(state.num_input_tokens_seen or 0) - progress.tokens_at_start if finished is None else 0
    model: Any = trainer.model

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
        if hasattr(base, "activation_checkpointing_disable"):  # transformers >= 5 (the old name is deprecated)
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
    del model, trainer, base
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
        "epochs": float(state.epoch or 0.0),
        "train_examples": float(len(examples)),
        "skipped_examples": float(stats["skipped"]),
        "truncated_examples": float(stats["truncated"]),
        "resumed_from_step": float(progress.resumed_from),
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
    return TrainResult(out, files, metrics, recall, total, progress.resumed_from, losses)


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
