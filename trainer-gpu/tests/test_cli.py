from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from trajectory_trainer import __version__, cli


def run(*argv: str, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "trajectory_trainer", *argv], capture_output=True, text=True, env=env, **kwargs)


def test_usage_and_version(capsys):
    assert cli.main(["--help"]) == 0
    assert "train" in capsys.readouterr().out
    assert cli.main([]) == 2
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"trajectory-train {__version__}"
    assert cli.main(["fly"]) == 2
    assert "unknown command 'fly'" in capsys.readouterr().err


def test_dry_run_prints_the_summary(fixture_dataset, capsys):
    assert cli.main(["train", "--dataset", str(fixture_dataset), "--dry-run"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["train"] == 27 and summary["heldout"]["fact"] == 34 and summary["facts"] == 3
    assert summary["trainByType"]["memory"] == 18  # capped beside a small history: as many as the real records


def test_bad_dataset_exits_2(tmp_path, capsys):
    (tmp_path / "sft.jsonl").write_text('{"messages": [], "weight": 1}\n')
    assert cli.main(["train", "--dataset", str(tmp_path)]) == 2
    assert f"{tmp_path / 'sft.jsonl'}:1: messages: expected a non-empty list" in capsys.readouterr().err
    assert cli.main(["train", "--dataset", str(tmp_path / "missing")]) == 2


@pytest.mark.slow
def test_train_subprocess_writes_an_adapter(fixture_dataset, tmp_path):
    out = tmp_path / "adapter"
    proc = run(
        "train", "--dataset", str(fixture_dataset), "--output_dir", str(out), "--base_model", "tiny-random-qwen2",
        "--lora_r", "4", "--lora_alpha", "8", "--max_steps", "3", "--gradient_accumulation_steps", "1",
        "--recall_max_new_tokens", "4", "--ollama", "--job_id", "cli-test", timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout)
    assert summary["jobId"] == "cli-test" and summary["totalSteps"] == 3
    assert {"adapter_config.json", "adapter_model.safetensors", "Modelfile"} <= set(summary["files"])
    assert (out / "checkpoints" / "cli-test" / "checkpoint-3").is_dir()  # the final checkpoint
    progress = [json.loads(line)["progress"] for line in proc.stderr.splitlines() if line.startswith('{"progress"')]
    assert [p["step"] for p in progress] == [1, 2, 3]
    assert set(progress[0]) == {"step", "total_steps", "epoch", "loss", "learning_rate", "tokens_per_second",
                                "eta_seconds", "resumed_from_step"}
    modelfile = (out / "Modelfile").read_text()
    assert "FROM tiny-random-qwen2\nADAPTER ./\n" in modelfile and 'SYSTEM """' in modelfile
