"""A run killed after step k resumes from checkpoint-k and ends as if never interrupted.

The checkpoints are the Trainer's (save_steps, save_total_limit 2, resume_from_checkpoint); what
is checked here is that through our job folder, identity file and callbacks a resumed job ends
with the adapter an uninterrupted one writes, bit for bit, on the CPU.
"""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from trajectory_trainer.args import Hyperparameters
from trajectory_trainer.train import Hooks, TrainingInterrupted, TrainJob, TrainResult, run_training

pytestmark = pytest.mark.slow


class Killed(Exception):
    pass


def job(tmp_path, job_id, dataset):
    hp = Hyperparameters(base_model="tiny-random-qwen2", lora_r=4, lora_alpha=8, learning_rate=1e-2,
                         gradient_accumulation_steps=2, max_steps=12, save_steps=4)
    return TrainJob(job_id, dataset, tmp_path / job_id / "adapter", tmp_path / "checkpoints", hp, recall=False)


def same_adapter(a: TrainResult, b: TrainResult) -> bool:
    x = load_file(str(a.output_dir / "adapter_model.safetensors"))
    y = load_file(str(b.output_dir / "adapter_model.safetensors"))
    return x.keys() == y.keys() and all(torch.equal(x[k], y[k]) for k in x)


def test_kill_and_resume(tmp_path, fixture_dataset):
    uninterrupted = run_training(job(tmp_path, "straight", fixture_dataset))

    def kill_after_10(step: int) -> None:
        if step == 10:
            raise Killed  # checkpoint-8 is the newest; steps 9 and 10 are lost

    with pytest.raises(Killed):
        run_training(job(tmp_path, "killed", fixture_dataset), Hooks(on_step=kill_after_10))
    ckpt_root = tmp_path / "checkpoints" / "killed"
    assert sorted(p.name for p in ckpt_root.iterdir() if p.is_dir()) == ["checkpoint-4", "checkpoint-8"]
    ckpt = ckpt_root / "checkpoint-8"
    assert {"adapter_model.safetensors", "adapter_config.json", "optimizer.pt", "scheduler.pt", "rng_state.pth",
            "trainer_state.json"} <= {p.name for p in ckpt.iterdir()}
    state = json.loads((ckpt / "trainer_state.json").read_text())
    assert (state["global_step"], state["max_steps"]) == (8, 12)
    assert [h["step"] for h in state["log_history"] if "loss" in h] == list(range(1, 9))
    # A save cut short (a SIGTERM's checkpoint at step 10, killed while writing): no trainer_state.json.
    partial = ckpt_root / "checkpoint-10"
    partial.mkdir()
    (partial / "adapter_model.safetensors").write_bytes(b"truncated")

    reports = []
    resumed = run_training(job(tmp_path, "killed", fixture_dataset), Hooks(on_progress=reports.append))
    assert resumed.resumed_from_step == 8 and resumed.total_steps == 12
    assert reports[0].step == 9 and all(r.resumed_from_step == 8 for r in reports)
    assert [s for s, _ in resumed.losses] == list(range(1, 13))  # the history carries over
    # Same data order, optimizer, schedule and RNG: the same adapter, bit for bit.
    assert same_adapter(resumed, uninterrupted)
    assert resumed.losses == uninterrupted.losses

    # Run once more (a worker that died after the last checkpoint, before publishing): the job is
    # done, the Trainer must not take a step past its end.
    again = run_training(job(tmp_path, "killed", fixture_dataset))
    assert (again.resumed_from_step, again.total_steps) == (12, 12)
    assert again.losses == uninterrupted.losses and same_adapter(again, uninterrupted)


def test_stop_request_checkpoints_and_interrupts(tmp_path, fixture_dataset):
    with pytest.raises(TrainingInterrupted) as info:
        run_training(job(tmp_path, "stopped", fixture_dataset), Hooks(should_stop=lambda: True))
    assert info.value.step == 1
    assert (tmp_path / "checkpoints" / "stopped" / "checkpoint-1").is_dir()


def test_checkpoints_of_another_run_are_not_resumed(tmp_path, fixture_dataset):
    first = job(tmp_path, "changed", fixture_dataset)
    first.hyperparameters.max_steps = 4
    run_training(first)
    second = job(tmp_path, "changed", fixture_dataset)  # 12 steps: not the run that wrote checkpoint-4
    result = run_training(second)
    assert result.resumed_from_step == 0 and result.total_steps == 12
