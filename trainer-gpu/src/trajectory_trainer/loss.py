"""The weighted causal-LM loss: every sample's weight counts.

For the samples ``i`` of one optimizer step (all micro-batches of its gradient accumulation),
with ``nll_i`` the mean negative log-likelihood over sample i's target (assistant) tokens:

    loss = sum_i w_i * nll_i / sum_i w_i

So a sample's weight scales its share of the gradient, a weight of 0 removes it, and scaling every
weight by the same factor changes nothing (the learning rate keeps its meaning). Each sample counts
by its weight, not by its length: a long answer is not worth more than a short one of the same
weight. An optimizer step whose weights are all 0 has no gradient.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .tokenization import IGNORE_INDEX

__all__ = ["per_sample_nll", "weighted_loss"]


def per_sample_nll(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean token NLL of each sample (next-token prediction) and its number of target tokens.

    ``logits``: (batch, seq, vocab); ``labels``: (batch, seq), -100 where there is no target.
    """
    shift_logits = logits[:, :-1, :].float()
    shift_labels = labels[:, 1:]
    token_nll = F.cross_entropy(
        shift_logits.reshape(-1, shift_logits.size(-1)),
        shift_labels.reshape(-1),
        ignore_index=IGNORE_INDEX,
        reduction="none",
    ).view(shift_labels.shape)
    mask = shift_labels != IGNORE_INDEX
    counts = mask.sum(dim=1)
    nll = (token_nll * mask).sum(dim=1) / counts.clamp(min=1)
    return nll, counts


def weighted_loss(
    logits: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor, normaliser: float | torch.Tensor | None = None
) -> torch.Tensor:
    """``sum_i w_i * nll_i / normaliser``; the normaliser defaults to this batch's ``sum_i w_i``.

    Under gradient accumulation, pass the sum of the weights of the whole optimizer step so that
    the accumulated gradient is exactly that of the weighted mean over the step's samples.
    """
    nll, _ = per_sample_nll(logits, labels)
    weights = weights.to(nll.dtype)
    total = weights.sum() if normaliser is None else torch.as_tensor(normaliser, dtype=nll.dtype, device=nll.device)
    if float(total) <= 0:
        # Nothing counts: a zero loss that still connects to the graph (no gradient).
        return (nll * 0.0).sum()
    return (weights * nll).sum() / total
