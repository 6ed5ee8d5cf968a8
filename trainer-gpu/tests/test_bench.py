"""bench/qlora_7b.py: refuses to run without CUDA; its model-writing path works (tiny, on CPU)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from conftest import PACKAGE

sys.path.insert(0, str(PACKAGE / "bench"))
import qlora_7b  # noqa: E402


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")
def test_fails_clearly_without_cuda():
    proc = subprocess.run([sys.executable, str(PACKAGE / "bench" / "qlora_7b.py")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "no CUDA device" in proc.stderr


def test_qwen25_7b_shapes():
    from transformers import Qwen2Config

    config = Qwen2Config(**qlora_7b.QWEN25_7B)
    assert (config.hidden_size, config.num_hidden_layers, config.num_attention_heads, config.num_key_value_heads,
            config.intermediate_size, config.vocab_size) == (3584, 28, 28, 4, 18944, 152064)
    # 7.6B parameters, as Qwen2.5-7B
    with torch.device("meta"):
        from transformers import Qwen2ForCausalLM

        params = sum(p.numel() for p in Qwen2ForCausalLM(config).parameters())
    assert 7.5e9 < params < 7.7e9


@pytest.mark.slow
def test_a_written_model_trains_through_the_real_model_path(tmp_path):
    """A small random model written like the bench's 7B one loads with from_pretrained (the path a
    real base model takes) and trains on the bench set."""
    from trajectory_trainer.args import Hyperparameters
    from trajectory_trainer.train import TrainJob, run_training

    dataset = qlora_7b.bench_dataset(tmp_path / "dataset", 12, 42)
    shapes = {**qlora_7b.QWEN25_7B, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
              "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 1024}
    model_dir = qlora_7b.write_random_model(tmp_path / "model", dataset, shapes=shapes, device="cpu")
    assert (model_dir / "config.json").exists() and (model_dir / "tokenizer.json").exists()
    hp = Hyperparameters(base_model=str(model_dir), lora_r=4, lora_alpha=8, max_steps=2, gradient_accumulation_steps=1)
    result = run_training(TrainJob("bench-cpu", dataset, tmp_path / "adapter", tmp_path / "ck", hp, recall=False))
    assert result.total_steps == 2 and (tmp_path / "adapter" / "adapter_model.safetensors").exists()
    assert result.metrics["adapter_seconds"] > 0
