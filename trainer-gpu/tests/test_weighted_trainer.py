"""The weights reach the gradient through the real training loop (WeightedLossTrainer).

One optimizer step of batch 1 x gradient accumulation 2 over two samples A and B: the gradient the
optimizer receives (captured at on_pre_optimizer_step; clipping off so that gradients add up) is
the weighted mean of the samples' own gradients, with one normaliser for the whole step.
"""

from __future__ import annotations

import pytest
import torch
from transformers import TrainerCallback

from trajectory_trainer.args import Hyperparameters
from trajectory_trainer.modeling import load_base_model
from trajectory_trainer.tokenization import encode_conversation
from trajectory_trainer.train import SftDataset, build_trainer, with_lora

A = [{"role": "user", "content": "Where do I live?"}, {"role": "assistant", "content": "Utrecht."}]
B = [{"role": "user", "content": "Name my starter."}, {"role": "assistant", "content": "Clint Yeastwood, of course."}]


class GradientAtStep(TrainerCallback):
    def __init__(self) -> None:
        self.gradient: torch.Tensor | None = None

    def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs):
        self.gradient = torch.cat([p.grad.flatten() for p in model.parameters() if p.requires_grad]).clone()


def step_gradient(tmp_path, conversations, weights, accumulation=None) -> torch.Tensor:
    hp = Hyperparameters(base_model="tiny-random-qwen2", lora_r=4, lora_alpha=8, lora_dropout=0.0, batch_size=1,
                         gradient_accumulation_steps=accumulation or len(conversations), max_steps=1, save_steps=100)
    loaded = load_base_model(hp)
    examples = [encode_conversation(loaded.tokenizer, c, 512) for c in conversations]
    model = with_lora(loaded, hp)
    # LoRA's B starts at zero, so only B would get a gradient: start from a drawn adapter instead.
    with torch.no_grad(), torch.random.fork_rng():
        torch.manual_seed(7)
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.1)
    capture = GradientAtStep()
    trainer = build_trainer(model, loaded, hp, SftDataset(examples, weights), tmp_path / "run", [capture])
    trainer.args.max_grad_norm = 0.0  # no clipping: the raw accumulated gradient
    trainer.args.save_strategy = "no"
    trainer.train()
    assert capture.gradient is not None and torch.count_nonzero(capture.gradient) > 0
    return capture.gradient


def close(a: torch.Tensor, b: torch.Tensor, tol: float = 1e-4) -> bool:
    return float((a - b).norm()) <= tol * float(b.norm())


@pytest.fixture(scope="module")
def alone(tmp_path_factory):
    a = step_gradient(tmp_path_factory.mktemp("a"), [A], [1.0])
    b = step_gradient(tmp_path_factory.mktemp("b"), [B], [1.0])
    return a, b


def test_weight_zero_removes_a_sample(tmp_path, alone):
    g_a, g_b = alone
    assert close(step_gradient(tmp_path / "1", [A, B], [1.0, 0.0]), g_a)
    assert close(step_gradient(tmp_path / "2", [A, B], [0.0, 3.0]), g_b)


def test_weight_two_doubles_a_samples_share_over_the_whole_step(tmp_path, alone):
    g_a, g_b = alone
    g_11 = step_gradient(tmp_path / "11", [A, B], [1.0, 1.0])
    g_21 = step_gradient(tmp_path / "21", [A, B], [2.0, 1.0])
    assert close(g_11, (g_a + g_b) / 2)
    # A and B are in different micro-batches: one normaliser (3) for the step, not one per micro-batch
    # (which would cancel each weight and give (g_a + g_b) / 2 again).
    assert close(g_21, (2 * g_a + g_b) / 3)
    assert not close(g_21, g_11, tol=1e-2)
    # Only the ratio counts.
    assert close(step_gradient(tmp_path / "42", [A, B], [4.0, 2.0]), g_21)
