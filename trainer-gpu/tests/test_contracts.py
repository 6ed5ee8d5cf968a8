"""The contracts are generated from proto/ and speak the TypeScript side's JSON (ts-proto)."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import PACKAGE
from trajectory_trainer.contracts import (
    QUEUED,
    RUNNING,
    Adapter,
    TrainingJob,
    TrainingJobChanged,
    from_json,
    to_dict,
    to_json,
)


def test_generated_contracts_are_current():
    proc = subprocess.run(
        [sys.executable, str(PACKAGE / "scripts" / "generate_contracts.py"), "--check"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_generated_modules_import_inside_the_package():
    from trajectory_trainer.contracts.trajectory.v1 import events_pb2

    assert events_pb2.DESCRIPTOR.package == "trajectory.v1"
    generated = PACKAGE / "src/trajectory_trainer/contracts/trajectory/v1/events_pb2.py"
    assert "from trajectory.v1 import" not in generated.read_text()


def test_reads_ts_proto_json():
    # As ts-proto (forceLong=bigint) writes a queued event: camelCase, enum names, int64 as strings,
    # Timestamps as RFC 3339 with milliseconds, and a field this trainer does not know yet.
    text = json.dumps(
        {
            "job": {
                "jobId": "j1",
                "datasetId": "d1",
                "datasetPath": "/data/datasets/d1/records.jsonl",
                "baseModel": "tiny-random-qwen2",
                "state": "TRAINING_JOB_STATE_QUEUED",
                "createdAt": "2026-11-25T10:00:00.123Z",
                "hyperparameters": {"baseModel": "tiny-random-qwen2", "loraR": 8, "seed": "42", "targetModules": ["q_proj"]},
                "progress": {"step": "3", "totalSteps": 10, "resumedFromStep": "2"},
                "metrics": {"train_loss": 1.5},
                "datasetVersion": 4,
                "someFutureField": {"x": 1},
            }
        }
    )
    event = from_json(text, TrainingJobChanged)
    job = event.job
    assert (job.job_id, job.state, job.dataset_version) == ("j1", QUEUED, 4)
    assert job.hyperparameters.lora_r == 8 and job.hyperparameters.seed == 42
    assert list(job.hyperparameters.target_modules) == ["q_proj"]
    assert (job.progress.step, job.progress.total_steps, job.progress.resumed_from_step) == (3, 10, 2)
    assert job.created_at.ToJsonString() == "2026-11-25T10:00:00.123Z"
    assert dict(job.metrics) == {"train_loss": 1.5}


def test_writes_what_ts_proto_reads():
    event = TrainingJobChanged()
    event.job.job_id = "j1"
    event.job.state = RUNNING
    event.job.attempt = 2
    event.job.progress.step = 5
    event.job.updated_at.FromJsonString("2026-11-25T10:00:00Z")
    event.adapter.CopyFrom(Adapter(adapter_id="a1", sha256="0" * 64))
    event.adapter.files.add(name="adapter_model.safetensors", sha256="0" * 64, size=123)
    data = json.loads(to_json(event))
    assert data["job"]["state"] == "TRAINING_JOB_STATE_RUNNING"  # enums by name
    assert data["job"]["progress"] == {"step": "5"}  # int64 as a string, zeros left out
    assert data["job"]["updatedAt"] == "2026-11-25T10:00:00Z"
    assert data["adapter"]["files"][0] == {"name": "adapter_model.safetensors", "sha256": "0" * 64, "size": "123"}
    assert "cancelRequested" not in data["job"]  # proto3: false is not written
    assert to_dict(from_json(to_json(event), TrainingJobChanged)) == data


def test_kv_entry_round_trip():
    job = from_json('{"jobId":"j","cancelRequested":true,"state":"TRAINING_JOB_STATE_CANCELLED"}', TrainingJob)
    assert job.cancel_requested and job.state == 5
