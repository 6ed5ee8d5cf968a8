"""Per-sample weights reach the gradient: a weight scales a sample's share, weight 0 removes it."""

from __future__ import annotations

import pytest
import torch

from trajectory_trainer.loss import per_sample_nll, weighted_loss
from trajectory_trainer.tiny import build_tiny_model, build_tiny_tokenizer
from trajectory_trainer.tokenization import encode_conversation
from trajectory_trainer.train import collate

A = [{"role": "user", "content": "Where do I live?"}, {"role": "assistant", "content": "Utrecht."}]
B = [{"role": "user", "content": "Name my starter."}, {"role": "assistant", "content": "Clint Yeastwood, of course."}]


@pytest.fixture(scope="module")
def setup():
    tokenizer = build_tiny_tokenizer()
    model = build_tiny_model(tokenizer, seed=1)
    # B is longer than A: in a batch, A is padded on the right.
    samples = [encode_conversation(tokenizer, m, 512) for m in (A, B)]
    assert len(samples[0].input_ids) < len(samples[1].input_ids)
    return tokenizer, model, samples


def close(a: torch.Tensor, b: torch.Tensor, tol: float = 1e-4) -> bool:
    """Equal up to float rounding (padding changes the matmul shapes, hence the summation order)."""
    return float((a - b).norm()) <= tol * float(b.norm())


def gradient(setup, indices, weights):
    tokenizer, model, samples = setup
    model.zero_grad(set_to_none=True)
    batch = collate([samples[i] for i in indices], tokenizer.pad_token_id)
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    loss = weighted_loss(logits, batch["labels"], torch.tensor(weights, dtype=torch.float32))
    loss.backward()
    return torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None]).clone(), loss.detach()


def test_weight_zero_removes_a_sample(setup):
    both, loss_both = gradient(setup, [0, 1], [1.0, 0.0])
    alone, loss_alone = gradient(setup, [0], [1.0])
    assert close(both, alone)
    assert torch.allclose(loss_both, loss_alone, rtol=1e-5)
    other, _ = gradient(setup, [0, 1], [0.0, 1.0])
    b_alone, _ = gradient(setup, [1], [1.0])
    assert close(other, b_alone)


def test_a_weight_scales_its_samples_gradient(setup):
    g_a, _ = gradient(setup, [0], [1.0])
    g_b, _ = gradient(setup, [1], [1.0])
    g_21, _ = gradient(setup, [0, 1], [2.0, 1.0])
    g_11, _ = gradient(setup, [0, 1], [1.0, 1.0])
    assert not close(g_21, g_11, tol=1e-2)
    # Exactly the weighted mean of the samples' own gradients.
    assert close(g_21, (2 * g_a + g_b) / 3)
    assert close(g_11, (g_a + g_b) / 2)
    # Only the ratio counts: scaling every weight changes nothing.
    g_42, _ = gradient(setup, [0, 1], [4.0, 2.0])
    assert close(g_42, g_21, tol=1e-5)


def test_all_weights_zero_means_no_gradient(setup):
    g, loss = gradient(setup, [0, 1], [0.0, 0.0])
    assert float(loss) == 0.0 and torch.count_nonzero(g) == 0


def test_per_sample_nll_ignores_unlabelled_tokens(setup):
    tokenizer, model, samples = setup
    batch = collate(samples, tokenizer.pad_token_id)
    with torch.no_grad():
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    nll, counts = per_sample_nll(logits, batch["labels"])
    assert counts.tolist() == [s.target_tokens for s in samples]
    # Uniform logits give ln(vocab) per token, whatever the padding.
    flat = torch.zeros_like(logits)
    uniform, _ = per_sample_nll(flat, batch["labels"])
    assert torch.allclose(uniform, torch.full((2,), float(torch.log(torch.tensor(float(logits.shape[-1]))))))
    # A normaliser over a whole optimizer step (gradient accumulation) divides by that sum.
    w = torch.tensor([1.0, 3.0])
    assert torch.allclose(weighted_loss(logits, batch["labels"], w, normaliser=8.0), (w * nll).sum() / 8)
