"""The tiny model trains on the fixture dataset: loss falls, the adapter loads back and matters."""

from __future__ import annotations

import json

import pytest
import torch

from trajectory_trainer.args import Hyperparameters
from trajectory_trainer.train import Hooks, TrainJob, run_training

pytestmark = pytest.mark.slow

TINY = dict(base_model="tiny-random-qwen2", lora_r=8, lora_alpha=16, learning_rate=1e-2, gradient_accumulation_steps=1)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from conftest import FIXTURE_DATASET

    root = tmp_path_factory.mktemp("train")
    hp = Hyperparameters(**TINY, max_steps=40, save_steps=20, merge=True, ollama=True)
    job = TrainJob("train-test", FIXTURE_DATASET, root / "adapter", root / "checkpoints", hp,
                   progress_steps=10, recall_max_new_tokens=8)
    reports = []
    result = run_training(job, Hooks(on_progress=reports.append))
    return result, reports, hp


def test_loss_falls(trained):
    result, reports, _ = trained
    losses = [loss for _, loss in result.losses]
    assert len(losses) == 40
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    assert last < first - 1.0, (first, last)
    assert result.metrics["train_loss"] < result.metrics["first_loss"]
    assert result.metrics["eval_loss"] < 5.6  # below uniform over the 259 tokens (ln 259 = 5.56)
    # Progress: the first step, every 10 steps, the last; all fields filled.
    assert [r.step for r in reports] == [1, 10, 20, 30, 40]
    last_report = reports[-1]
    assert (last_report.total_steps, last_report.eta_seconds, last_report.resumed_from_step) == (40, 0.0, 0)
    assert last_report.tokens_per_second > 0 and last_report.epoch == pytest.approx(40 / 14)  # 14 batches of 2 an epoch
    assert reports[0].learning_rate > 0 and reports[-1].learning_rate == 0.0  # cosine to zero


def test_adapter_loads_back_and_changes_the_output(trained):
    from peft import PeftModel

    from trajectory_trainer.tiny import build_tiny_model, build_tiny_tokenizer

    result, _, hp = trained
    out = result.output_dir
    config = json.loads((out / "adapter_config.json").read_text())
    assert config["r"] == 8 and config["lora_alpha"] == 16 and config["base_model_name_or_path"] == "tiny-random-qwen2"
    assert sorted(config["target_modules"]) == sorted(hp.target_modules)
    tokenizer = build_tiny_tokenizer()
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Where do I live?"}], tokenize=False, add_generation_prompt=True
    )
    ids = torch.tensor([tokenizer(prompt, add_special_tokens=False)["input_ids"]])
    base = build_tiny_model(tokenizer, seed=hp.seed).eval()
    with torch.no_grad():
        before = base(ids).logits
    model = PeftModel.from_pretrained(base, out).eval()
    with torch.no_grad():
        after = model(ids).logits
    assert (after - before).abs().max() > 0.1
    # The merged model gives the adapter's output without PEFT.
    from transformers import AutoModelForCausalLM

    merged = AutoModelForCausalLM.from_pretrained(out / "merged").eval()
    with torch.no_grad():
        assert torch.allclose(merged(ids).logits, after, atol=1e-4)
    assert "merged/model.safetensors" in result.files and "merged/config.json" in result.files


def test_recall_eval_reports_per_fact(trained):
    result, _, _ = trained
    recall = result.recall
    assert recall.asked == 34 and recall.negative_asked == 3 and recall.unknown_asked == 3
    assert {(f.subject, f.relation) for f in recall.facts} == {("I", "live in"), ("my partner", "birthday"),
                                                               ("my sourdough starter", "name")}
    assert sum(f.asked for f in recall.facts) == 34
    assert all(0.0 <= f.accuracy <= 1.0 for f in recall.facts)
    proto = recall.to_proto()
    assert len(proto.facts) == 3 and proto.asked == 34
    assert result.metrics["recall_asked"] == 34.0
    assert len(recall.answers) == 40


def test_outputs(trained):
    result, _, _ = trained
    assert result.files[:2] == ["adapter_config.json", "adapter_model.safetensors"]
    assert "tokenizer.json" in result.files and "Modelfile" in result.files
    assert not (result.output_dir / "README.md").exists()
    modelfile = (result.output_dir / "Modelfile").read_text().splitlines()
    assert "FROM tiny-random-qwen2" in modelfile and "ADAPTER ./" in modelfile
    ckpts = sorted(p.name for p in (result.output_dir.parent / "checkpoints" / "train-test").iterdir() if p.is_dir())
    assert ckpts == ["checkpoint-20", "checkpoint-40"]


def test_modelfile_names_the_ollama_base(tmp_path):
    from trajectory_trainer.train import write_modelfile

    write_modelfile(Hyperparameters(base_model="Qwen/Qwen2.5-7B-Instruct"), tmp_path / "Modelfile")
    assert (tmp_path / "Modelfile").read_text().splitlines()[2:] == ["FROM qwen2.5:7b-instruct", "ADAPTER ./"]
