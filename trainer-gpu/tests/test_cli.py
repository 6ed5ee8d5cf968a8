from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from trajectory_trainer import cli

SRC = Path(__file__).resolve().parents[1] / "src"


def run(*args: str, executable: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    # Works whether or not the package is installed.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    command = (executable or [sys.executable, "-m", "trajectory_trainer"]) + list(args)
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)


def test_dry_run_subprocess(write_jsonl, record):
    path = write_jsonl([record(), record(id="s-2", relation="follows", weight=0.25)])
    proc = run("--dataset", str(path), "--dry-run")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1
    summary = json.loads(lines[0])
    assert summary == {
        "dataset": str(path),
        "samples": 2,
        "conversations": 1,
        "totalWeight": 1.0,
        "meanWeight": 0.5,
        "relations": {"follows": 1, "responds": 1},
        "invalid": 0,
    }
    assert proc.stderr == ""


def test_console_script(write_jsonl, record):
    script = Path(sys.executable).parent / ("trajectory-train.exe" if os.name == "nt" else "trajectory-train")
    if not script.exists():
        pytest.skip("package not installed in this interpreter's environment")
    proc = run("--dataset", str(write_jsonl([record()])), "--dry-run", executable=[str(script)])
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["samples"] == 1


def test_dry_run_reports_bad_lines_and_keeps_going(write_jsonl, record, capsys):
    path = write_jsonl([record(), "{broken", record(id="s-3", weight=3)])
    assert cli.main(["--dataset", str(path), "--dry-run"]) == 0
    out, err = capsys.readouterr()
    summary = json.loads(out)
    assert (summary["samples"], summary["invalid"]) == (1, 2)
    assert f"{path}:2: malformed JSON" in err
    assert f"{path}:3: weight: must be in (0, 1]" in err


def test_dry_run_strict_fails_on_bad_line(write_jsonl, record, capsys):
    path = write_jsonl([record(), "{broken"])
    assert cli.main(["--dataset", str(path), "--dry-run", "--strict"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert f"{path}:2: malformed JSON" in err


def test_dry_run_missing_file_subprocess(tmp_path):
    missing = tmp_path / "missing.jsonl"
    proc = run("--dataset", str(missing), "--dry-run")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert f"dataset not found: {missing}" in proc.stderr


def test_dry_run_directory(tmp_path, capsys):
    assert cli.main(["--dataset", str(tmp_path), "--dry-run"]) == 2
    assert "is a directory" in capsys.readouterr().err


def test_dry_run_empty_file(tmp_path, capsys):
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    assert cli.main(["--dataset", str(path), "--dry-run"]) == 2
    out, err = capsys.readouterr()
    assert json.loads(out)["samples"] == 0
    assert "no valid sample" in err


def test_dry_run_only_invalid_lines(write_jsonl, capsys):
    path = write_jsonl(["nope"] * 25)
    assert cli.main(["--dataset", str(path), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "... and 5 more invalid lines" in err
    assert "no valid sample" in err and "(25 lines invalid)" in err


def test_training_without_gpu_extras_refuses(write_jsonl, record, monkeypatch, capsys):
    monkeypatch.setattr(cli, "_missing_gpu_extras", lambda: ["torch", "bitsandbytes"])
    assert cli.main(["--dataset", str(write_jsonl([record()]))]) == 3
    out, err = capsys.readouterr()
    assert out == ""
    assert "pip install 'trajectory-trainer[gpu]'" in err
    assert "missing: torch, bitsandbytes" in err
    for package in ("torch", "transformers", "peft", "bitsandbytes", "accelerate", "trl"):
        assert package in err


def test_training_not_implemented_even_with_extras(write_jsonl, record, monkeypatch, capsys):
    monkeypatch.setattr(cli, "_missing_gpu_extras", lambda: [])
    assert cli.main(["--dataset", str(write_jsonl([record()]))]) == 3
    err = capsys.readouterr().err
    assert "not implemented" in err and "nothing was trained" in err


def test_training_refusal_subprocess(write_jsonl, record):
    proc = run("--dataset", str(write_jsonl([record()])))
    assert proc.returncode == 3
    assert proc.stdout == ""
    assert "--dry-run" in proc.stderr


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert "trajectory-train 0.1.0" in capsys.readouterr().out
