"""The worker against a real nats-server (JetStream): jobs in, events and adapters out.

The stream, the trainer's durable consumer and the buckets are created with the settings of
packages/bus/src/topology.json (trajectory_trainer.topology.ensure_topology), the job is queued as
the training service does (KV entry + trajectory.training.queued), and the events are read back
from the stream.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from trajectory_trainer import worker as worker_module
from trajectory_trainer.args import WorkerArguments
from trajectory_trainer.contracts import (
    QUEUED,
    RUNNING,
    SUCCEEDED,
    TrainingJob,
    TrainingJobChanged,
    from_json,
    to_json,
)
from trajectory_trainer.topology import BUCKETS, TRAINER_QUEUE, ensure_topology, training_subject
from trajectory_trainer.worker import Worker

pytestmark = [pytest.mark.nats, pytest.mark.slow]

DATASET_ID = "fixture0123456789"


def queued_job(job_id: str, **hp) -> TrainingJob:
    job = TrainingJob(
        job_id=job_id, dataset_id=DATASET_ID, dataset_path=f"/elsewhere/{DATASET_ID}/records.jsonl",
        base_model="tiny-random-qwen2", state=QUEUED, message="waiting for a GPU trainer", dataset_version=3,
    )
    job.created_at.FromJsonString("2026-11-25T10:00:00Z")
    h = job.hyperparameters
    h.base_model = "tiny-random-qwen2"
    h.lora_r, h.lora_alpha, h.learning_rate, h.gradient_accumulation_steps = 4, 8, 1e-2, 1
    for key, value in hp.items():
        setattr(h, key, value)
    return job


class Bus:
    """A client of the test's server, doing what the TypeScript services do."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def __aenter__(self) -> Bus:
        import nats

        self.nc = await nats.connect(self.url)
        self.js = self.nc.jetstream()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.nc.drain()

    async def topology(self, ack_wait_ms: int | None = None) -> None:
        await ensure_topology(self.js, ack_wait_ms=ack_wait_ms)

    async def upload_dataset(self, folder: Path) -> None:
        store = await self.js.object_store(BUCKETS.dataset_objects)
        for path in sorted(folder.iterdir()):
            await store.put(f"{DATASET_ID}/{path.name}", path.read_bytes())

    async def queue(self, job: TrainingJob) -> None:
        kv = await self.js.key_value(BUCKETS.training_jobs)
        await kv.put(job.job_id, to_json(job).encode())
        event = TrainingJobChanged()
        event.job.CopyFrom(job)
        await self.js.publish(training_subject("queued"), to_json(event).encode(),
                              headers={"Nats-Msg-Id": f"training:{job.job_id}:queued"})

    async def cancel(self, job_id: str) -> None:
        kv = await self.js.key_value(BUCKETS.training_jobs)
        job = from_json((await kv.get(job_id)).value, TrainingJob)
        job.cancel_requested = True
        await kv.put(job_id, to_json(job).encode())

    async def events(self, job_id: str) -> list[tuple[str, str, TrainingJobChanged]]:
        """Every training event of the job in the stream, in order: (subject, Nats-Msg-Id, event)."""
        sub = await self.js.subscribe("trajectory.training.>", ordered_consumer=True)
        out = []
        try:
            while True:
                try:
                    msg = await sub.next_msg(timeout=1)
                except Exception:  # noqa: BLE001 - nats TimeoutError: the stream is read to its end
                    break
                event = from_json(msg.data, TrainingJobChanged)
                if event.job.job_id == job_id:
                    out.append((msg.subject.rsplit(".", 1)[1], (msg.headers or {}).get("Nats-Msg-Id", ""), event))
        finally:
            await sub.unsubscribe()
        return out

    async def consumer(self):
        return await self.js.consumer_info(TRAINER_QUEUE.stream, TRAINER_QUEUE.durable)

    async def progress_reaching(self, step: int):
        """An event set once a progress event reports ``step`` or beyond, and the subscription behind it."""
        reached = asyncio.Event()

        async def on_progress(msg):
            if from_json(msg.data, TrainingJobChanged).job.progress.step >= step:
                reached.set()

        return reached, await self.nc.subscribe(training_subject("progress"), cb=on_progress)


def worker_args(tmp_path: Path, url: str, trainer_id: str = "t1") -> WorkerArguments:
    return WorkerArguments(
        nats=url, checkpoint_dir=str(tmp_path / "checkpoints"), work_dir=str(tmp_path / f"work-{trainer_id}"),
        trainer_id=trainer_id, once=True, recall_max_new_tokens=4,
    )


def run(coro, timeout: float = 240):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def test_a_job_runs_to_an_adapter(nats_server, tmp_path, fixture_dataset, monkeypatch, caplog):
    monkeypatch.setattr(worker_module, "CONSUMER_RETRY_SECONDS", 0.2)
    caplog.set_level(logging.INFO, logger="trajectory_trainer.worker")

    async def scenario():
        async with Bus(nats_server) as bus:
            worker = Worker(worker_args(tmp_path, nats_server))
            task = asyncio.create_task(worker.run())
            # No consumer yet (the training service has not started): the worker waits for it.
            await asyncio.sleep(1.0)
            assert not task.done()
            await bus.topology()
            await bus.upload_dataset(fixture_dataset)
            await bus.queue(queued_job("job-ok", max_steps=6, save_steps=3))
            assert await asyncio.wait_for(task, 200) == 0
            events = await bus.events("job-ok")
            consumer = await bus.consumer()
            store = await bus.js.object_store(BUCKETS.adapter_objects)
            succeeded = events[-1][2]
            blobs = {f.name: (await store.get(f"{succeeded.adapter.adapter_id}/{f.name}")).data for f in succeeded.adapter.files}
            return events, consumer, blobs

    events, consumer, blobs = run(scenario())
    assert "waiting for the durable consumer 'trainer' on stream TRAJECTORY_EVENTS" in caplog.text

    subjects = [s for s, _, _ in events]
    assert subjects[0] == "queued" and subjects[1] == "running" and subjects[-1] == "succeeded"
    assert set(subjects[2:-1]) == {"progress"} and len(subjects) >= 5
    ids = [i for _, i, _ in events]
    assert ids[1] == "training:job-ok:running:1" and ids[-1] == "training:job-ok:succeeded:1"
    steps = [e.job.progress.step for s, _, e in events if s == "progress"]
    assert steps == sorted(steps) and steps[-1] == 6 and ids[2] == f"training:job-ok:progress:1:{steps[0]}"

    running = events[1][2].job
    assert (running.state, running.trainer, running.attempt, running.dataset_version) == (RUNNING, "t1", 1, 3)
    progress = events[2][2].job
    assert progress.state == RUNNING and progress.progress.total_steps == 6 and progress.progress.loss > 0

    done = events[-1][2]
    job, adapter = done.job, done.adapter
    assert job.state == SUCCEEDED and job.adapter_id == adapter.adapter_id
    assert job.recall.asked == 34 and len(job.recall.facts) == 3 and "train_loss" in job.metrics
    assert (adapter.job_id, adapter.base_model, adapter.dataset_id, adapter.dataset_version) == (
        "job-ok", "tiny-random-qwen2", DATASET_ID, 3)
    assert f"{DATASET_ID}/records.jsonl" in adapter.dataset_objects and f"{DATASET_ID}/sft.jsonl" in adapter.dataset_objects
    assert adapter.hyperparameters.lora_r == 4 and adapter.hyperparameters.save_steps == 3
    assert adapter.hyperparameters.epochs == 5  # zero in the job: the default, filled in
    assert adapter.recall.asked == 34 and adapter.metrics["total_steps"] == 6
    names = [f.name for f in adapter.files]
    assert names[:2] == ["adapter_config.json", "adapter_model.safetensors"]
    for f in adapter.files:  # the files in the object store are the ones listed, byte for byte
        assert hashlib.sha256(blobs[f.name]).hexdigest() == f.sha256 and len(blobs[f.name]) == f.size
    assert adapter.sha256 == next(f.sha256 for f in adapter.files if f.name == "adapter_model.safetensors")
    assert adapter.created_at.seconds > 0

    assert consumer.num_ack_pending == 0 and consumer.num_pending == 0  # acked
    assert not (tmp_path / "checkpoints" / "job-ok").exists()  # a finished job's checkpoints go


def test_a_cancelled_job_stops(nats_server, tmp_path, fixture_dataset):
    async def scenario():
        async with Bus(nats_server) as bus:
            await bus.topology()
            await bus.upload_dataset(fixture_dataset)
            progress, sub = await bus.progress_reaching(2)
            await bus.queue(queued_job("job-cancel", max_steps=400, save_steps=1000))
            task = asyncio.create_task(Worker(worker_args(tmp_path, nats_server)).run())
            await asyncio.wait_for(progress.wait(), 200)
            await bus.cancel("job-cancel")  # as CancelJob does: cancel_requested in the registry
            assert await asyncio.wait_for(task, 120) == 0
            await sub.unsubscribe()
            return await bus.events("job-cancel"), await bus.consumer()

    events, consumer = run(scenario())
    subjects = [s for s, _, _ in events]
    assert subjects[:2] == ["queued", "running"] and "progress" in subjects
    assert "succeeded" not in subjects and "failed" not in subjects
    last = [e.job.progress.step for s, _, e in events if s == "progress"][-1]
    assert last < 400  # stopped long before the end
    assert consumer.num_ack_pending == 0 and consumer.num_pending == 0  # acked, not redelivered


def test_a_job_without_its_dataset_fails(nats_server, tmp_path):
    async def scenario():
        async with Bus(nats_server) as bus:
            await bus.topology()
            await bus.queue(queued_job("job-nodata", max_steps=2))
            assert await Worker(worker_args(tmp_path, nats_server)).run() == 0
            return await bus.events("job-nodata"), await bus.consumer()

    events, consumer = run(scenario(), timeout=120)
    assert [s for s, _, _ in events] == ["queued", "running", "failed"]
    failed = events[-1][2].job
    assert failed.state == 4 and f"dataset {DATASET_ID}" in failed.message and events[-1][1] == "training:job-nodata:failed:1"
    assert consumer.num_ack_pending == 0


def test_a_killed_trainer_is_resumed_by_the_next(nats_server, tmp_path, fixture_dataset):
    """SIGKILL a worker process mid-run: after the ack wait the job goes to a second worker,
    which resumes from the newest checkpoint (the ack wait is 3 s here instead of 60 s)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}

    def start(trainer_id: str) -> subprocess.Popen:
        args = worker_args(tmp_path, nats_server, trainer_id)
        cmd = [sys.executable, "-m", "trajectory_trainer", "worker", "--nats", nats_server, "--checkpoint-dir",
               args.checkpoint_dir, "--work-dir", args.work_dir, "--trainer-id", trainer_id, "--once",
               "--recall-max-new-tokens", "4"]
        return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=open(tmp_path / f"{trainer_id}.log", "wb"))

    ckpt_root = tmp_path / "checkpoints" / "job-kill"

    async def scenario():
        async with Bus(nats_server) as bus:
            await bus.topology(ack_wait_ms=3000)
            await bus.upload_dataset(fixture_dataset)
            reached, sub = await bus.progress_reaching(7)
            await bus.queue(queued_job("job-kill", max_steps=24, save_steps=3))
            first = start("t1")
            try:
                await asyncio.wait_for(reached.wait(), 200)
            finally:
                first.send_signal(signal.SIGKILL)
                first.wait()
            await sub.unsubscribe()
            saved = max(int(p.name.split("-")[1]) for p in ckpt_root.iterdir() if p.name.startswith("checkpoint-"))
            second = start("t2")
            code = await asyncio.to_thread(second.wait, 200)
            return saved, code, await bus.events("job-kill"), await bus.consumer()

    saved, code, events, consumer = run(scenario(), timeout=300)
    assert code == 0, (tmp_path / "t2.log").read_text()[-3000:]
    assert saved >= 6 and saved % 3 == 0
    by_trainer = {}
    for subject, _, event in events[1:]:
        by_trainer.setdefault(event.job.trainer, []).append((subject, event.job))
    assert set(by_trainer) == {"t1", "t2"}
    second = by_trainer["t2"]
    assert second[0][0] == "running" and second[0][1].attempt == 2
    resumed = [job.progress for subject, job in second if subject == "progress"]
    assert resumed and all(p.resumed_from_step == saved for p in resumed)
    assert resumed[0].step == saved + 1 and resumed[-1].step == 24
    assert second[-1][0] == "succeeded" and second[-1][1].progress.total_steps == 24
    assert second[-1][1].progress.resumed_from_step == saved
    assert consumer.num_ack_pending == 0 and consumer.num_pending == 0


def test_object_store_interoperates_with_nats_js(nats_server, tmp_path):
    """Objects written by @nats-io/obj (the samples service) read here, and the other way round."""
    from conftest import REPO, missing

    node = shutil.which("node")
    if node is None or not (REPO / "node_modules" / "@nats-io" / "obj").is_dir():
        missing("node or @nats-io/obj is not installed")
    script = """
import { connect } from '@nats-io/transport-node';
import { Objm } from '@nats-io/obj';
import { createHash } from 'node:crypto';
const nc = await connect({ servers: process.argv[1] });
const objm = new Objm(nc);
const datasets = await objm.create('trajectory_datasets');
const big = new Uint8Array(300 * 1024).map((_, i) => (i * 7) % 251);
await datasets.putBlob({ name: 'd1/records.jsonl' }, big);
const adapters = await objm.open('trajectory_adapters');
const blob = await adapters.getBlob('a1/adapter_model.safetensors');
console.log(createHash('sha256').update(blob).digest('hex'));
await nc.close();
"""

    async def scenario():
        async with Bus(nats_server) as bus:
            await bus.topology()
            adapters = await bus.js.object_store(BUCKETS.adapter_objects)
            payload = os.urandom(200 * 1024)
            await adapters.put("a1/adapter_model.safetensors", payload)
            proc = await asyncio.create_subprocess_exec(
                node, "--input-type=module", "-e", script, nats_server, cwd=str(REPO),
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )
            out, err = await proc.communicate()
            assert proc.returncode == 0, err.decode()
            datasets = await bus.js.object_store(BUCKETS.dataset_objects)
            got = (await datasets.get("d1/records.jsonl")).data
            return payload, out.decode().strip(), got

    payload, node_digest, got = run(scenario(), timeout=60)
    assert node_digest == hashlib.sha256(payload).hexdigest()
    assert got == bytes((i * 7) % 251 for i in range(300 * 1024))


def test_msg_ids_match_the_training_service():
    from trajectory_trainer.worker import msg_id

    assert msg_id("j", "running", 1) == "training:j:running:1"
    assert msg_id("j", "progress", 2, 40) == "training:j:progress:2:40"
    assert msg_id("j", "queued", 0) == "training:j:queued"
    assert json.loads(to_json(queued_job("x")))["state"] == "TRAINING_JOB_STATE_QUEUED"
