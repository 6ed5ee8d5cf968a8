"""``trajectory-train worker``: a GPU trainer on the bus (docs/training.md).

The worker binds to the durable pull consumer ``trainer`` on the stream TRAJECTORY_EVENTS (the
training service creates it; until it exists the worker waits and says so), fetches one job at a
time and, for each ``trajectory.training.queued`` event (TrainingJobChanged, proto3 JSON):

1. reads the job's entry in the KV bucket ``trajectory_training_jobs``: a job that is cancelled
   or already finished is acked and skipped;
2. publishes ``trajectory.training.running`` (state RUNNING, this trainer's id, attempt = the
   message's delivery count) and keeps the message with ``+WPI`` (in progress) every 20 s from
   the event loop while training runs in a thread;
3. downloads ``<dataset_id>/records.jsonl``, ``sft.jsonl`` (and ``sft.eval.jsonl``) from the object
   store ``trajectory_datasets`` (or reads the job's ``dataset_path`` where that folder is on this
   machine), and trains (train.py), resuming from ``<checkpoint_dir>/<job_id>/checkpoint-<step>``
   when an earlier attempt left one;
4. at every progress report publishes ``trajectory.training.progress`` and re-reads the job's KV
   entry: ``cancelRequested`` or state CANCELLED stops training; the message is acked and nothing
   more is published;
5. uploads the adapter's files to the object store ``trajectory_adapters`` under
   ``<adapter_id>/`` and publishes ``trajectory.training.succeeded`` with the Adapter (files with
   sha256 and size, metrics, recall); on an error publishes ``.failed`` with the error as message.
   The message is acked only after succeeded or failed is published.

Every event carries ``Nats-Msg-Id: training:<job_id>:<state>:<attempt>[:<step>]``. A trainer that
dies stops sending ``+WPI``; after the ack wait (60 s) JetStream redelivers the job and the next
trainer resumes from the last checkpoint, which it finds only if it sees the same checkpoint
folder: across machines, mount one shared volume as ``--checkpoint-dir`` everywhere.
SIGTERM: the running job saves a checkpoint at the end of its current step and is handed back
(nak) for another trainer to resume; a second SIGTERM exits at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import shutil
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .args import Hyperparameters, WorkerArguments
from .topology import BUCKETS, CLAIM_BUCKET, CLAIM_CHECK_HEADER, TRAINER_QUEUE, dead_letter_subject, training_subject

__all__ = ["JobCancelled", "Worker", "adapter_id_for", "msg_id", "sha256_file"]

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 20.0
FETCH_TIMEOUT_SECONDS = 2.0
CONSUMER_RETRY_SECONDS = 5.0
DATASET_FILES = ("records.jsonl", "sft.jsonl", "sft.eval.jsonl")


class JobCancelled(Exception):
    pass


def msg_id(job_id: str, state: str, attempt: int, step: int | None = None) -> str:
    """``training:<job_id>:<state>[:<attempt>][:<step>]``, as the training service writes them."""
    text = f"training:{job_id}:{state}"
    if attempt > 0:
        text += f":{attempt}"
    if step is not None:
        text += f":{step}"
    return text


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def adapter_id_for(job_id: str, weights_sha256: str) -> str:
    """The same job producing the same weights gives the same id (a retried upload overwrites)."""
    return hashlib.sha256(f"{job_id}\0{weights_sha256}".encode()).hexdigest()[:24]


def _now_timestamp(message: Any) -> None:
    message.FromDatetime(datetime.now(UTC).replace(tzinfo=None))


@dataclass
class _Running:
    """What the training thread needs to talk to the event loop."""

    loop: asyncio.AbstractEventLoop
    job: Any  # TrainingJob as queued
    attempt: int
    headers: dict[str, str]
    cancelled: bool = False
    published_steps: set[int] = field(default_factory=set)


class Worker:
    def __init__(self, args: WorkerArguments) -> None:
        self.args = args
        self.trainer_id = args.trainer_id or f"{socket.gethostname()}-{os.getpid()}"
        self.nc: Any = None
        self.js: Any = None
        self._stopping = threading.Event()
        self.jobs_handled = 0
        self.heartbeat_seconds = HEARTBEAT_SECONDS

    # --------------------------------------------------------------------------- lifecycle

    def stop(self) -> None:
        """Finish the current step, checkpoint, hand the job back; stop fetching."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    async def connect(self) -> None:
        import nats

        options: dict[str, Any] = {"name": f"trajectory-trainer {self.trainer_id}", "max_reconnect_attempts": -1}
        if os.environ.get("NATS_USER"):
            options["user"] = os.environ["NATS_USER"]
            options["password"] = os.environ.get("NATS_PASSWORD", "")
        if os.environ.get("NATS_TOKEN"):
            options["token"] = os.environ["NATS_TOKEN"]
        while True:
            try:
                self.nc = await nats.connect(self.args.nats, connect_timeout=5, allow_reconnect=True, **options)
                break
            except Exception as exc:  # noqa: BLE001 - any failure to connect is retried
                if self.stopping:
                    raise
                log.warning("cannot reach NATS at %s (%s); retrying in %ss", self.args.nats, exc, CONSUMER_RETRY_SECONDS)
                await asyncio.sleep(CONSUMER_RETRY_SECONDS)
        self.js = self.nc.jetstream()

    async def close(self) -> None:
        # Everything this worker sends is either awaited (JetStream publishes wait for their ack)
        # or an ack: flush those, then close (a drain can wait out its timeout on the pull
        # subscription's expired requests).
        if self.nc is not None and not self.nc.is_closed:
            try:
                await self.nc.flush(timeout=5)
            except Exception as exc:  # noqa: BLE001
                log.warning("flush before close failed: %s", exc)
            await self.nc.close()

    async def _wait_for_consumer(self) -> None:
        from nats.js.errors import NotFoundError

        q = TRAINER_QUEUE
        announced = False
        while not self.stopping:
            try:
                info = await self.js.consumer_info(q.stream, q.durable)
                ack_wait = info.config.ack_wait or q.ack_wait_ms / 1000
                # +WPI well inside the consumer's ack wait (60 s in the topology: every 20 s).
                self.heartbeat_seconds = max(0.5, min(HEARTBEAT_SECONDS, ack_wait / 3))
                if announced:
                    log.info("consumer %r found", q.durable)
                return
            except NotFoundError:
                if not announced:
                    log.warning(
                        "waiting for the durable consumer %r on stream %s (the training service creates it); "
                        "retrying every %ss",
                        q.durable, q.stream, CONSUMER_RETRY_SECONDS,
                    )
                    announced = True
            await asyncio.sleep(CONSUMER_RETRY_SECONDS)

    async def run(self) -> int:
        """Takes jobs until stopped (or after one with ``--once``); returns an exit status."""
        import nats.errors

        await self.connect()
        try:
            await self._wait_for_consumer()
            if self.stopping:
                return 0
            q = TRAINER_QUEUE
            sub = await self.js.pull_subscribe_bind(durable=q.durable, stream=q.stream)
            log.info("trainer %s waiting for jobs on %s (consumer %s)", self.trainer_id, q.filter_subject, q.durable)
            while not self.stopping:
                try:
                    messages = await sub.fetch(1, timeout=FETCH_TIMEOUT_SECONDS)
                except nats.errors.TimeoutError:
                    continue
                except Exception as exc:  # noqa: BLE001 - consumer gone, connection lost: retry
                    log.warning("fetch failed (%s); retrying", exc)
                    await asyncio.sleep(1)
                    await self._wait_for_consumer()
                    continue
                for msg in messages:
                    try:
                        await self.handle(msg)
                    except Exception:  # noqa: BLE001 - not acked: JetStream redelivers it
                        log.exception("could not finish handling a job message; it will be redelivered")
                    self.jobs_handled += 1
                if self.args.once and self.jobs_handled > 0:
                    break
            return 0
        finally:
            await self.close()

    # -------------------------------------------------------------------------------- jobs

    async def _decode(self, msg: Any) -> Any:
        from .contracts import ClaimCheck, TrainingJobChanged, from_json

        data = msg.data
        if msg.headers and msg.headers.get(CLAIM_CHECK_HEADER) == "1":
            claim = from_json(data, ClaimCheck)
            store = await self.js.object_store(claim.bucket or CLAIM_BUCKET)
            data = (await store.get(claim.object)).data
            if hashlib.sha256(data).hexdigest() != claim.sha256:
                raise ValueError(f"claim check {claim.object}: digest mismatch")
        return from_json(data, TrainingJobChanged)

    async def _registry_job(self, job_id: str) -> Any | None:
        """The job as the training service's registry holds it, or None."""
        from nats.js.errors import NotFoundError

        from .contracts import TrainingJob, from_json

        try:
            kv = await self.js.key_value(BUCKETS.training_jobs)
            entry = await kv.get(job_id)
        except NotFoundError:
            return None
        if entry is None or not entry.value:
            return None
        return from_json(entry.value, TrainingJob)

    async def _is_cancelled(self, job_id: str) -> bool:
        from .contracts import CANCELLED

        try:
            job = await self._registry_job(job_id)
        except Exception as exc:  # noqa: BLE001 - a failed read must not kill a training run
            log.warning("cannot read job %s from %s: %s", job_id, BUCKETS.training_jobs, exc)
            return False
        return job is not None and (job.cancel_requested or job.state == CANCELLED)

    async def _publish(self, subject: str, run: _Running, *, step: int | None = None, **changes: Any) -> None:
        """Publishes trajectory.training.<subject>: the queued job with ``changes`` applied."""
        from .contracts import TrainingJobChanged, to_json

        event = TrainingJobChanged()
        event.job.CopyFrom(run.job)
        job = event.job
        job.trainer = self.trainer_id
        job.attempt = run.attempt
        job.cancel_requested = False
        _now_timestamp(job.updated_at)
        adapter = changes.pop("adapter", None)
        if adapter is not None:
            event.adapter.CopyFrom(adapter)
        for key, value in changes.items():
            if key == "progress":
                job.progress.CopyFrom(value)
            elif key == "recall":
                job.recall.CopyFrom(value)
            elif key == "metrics":
                job.metrics.clear()
                job.metrics.update(value)
            else:
                setattr(job, key, value)
        headers = {**run.headers, "Nats-Msg-Id": msg_id(job.job_id, subject, run.attempt, step)}
        await self.js.publish(training_subject(subject), to_json(event).encode(), headers=headers)

    async def handle(self, msg: Any) -> None:
        from .contracts import CANCELLED, FAILED, RUNNING, SUCCEEDED

        attempt = msg.metadata.num_delivered
        try:
            event = await self._decode(msg)
        except Exception as exc:  # noqa: BLE001 - a message that can never be decoded
            log.error("undecodable job message (seq %s): %s; terminating it", msg.metadata.sequence.stream, exc)
            await self._dead_letter(msg, str(exc))
            await msg.term()
            return
        job = event.job
        if not job.job_id:
            log.error("queued event without a job id; terminating it")
            await self._dead_letter(msg, "queued event without a job id")
            await msg.term()
            return
        registry = await self._registry_job(job.job_id)
        if registry is not None and (registry.cancel_requested or registry.state in (SUCCEEDED, FAILED, CANCELLED)):
            log.info("job %s is %s: skipped", job.job_id, "cancelled" if registry.cancel_requested else "finished")
            await msg.ack()
            return

        headers = {k: v for k, v in (msg.headers or {}).items() if k.lower() in ("traceparent", "tracestate")}
        run = _Running(loop=asyncio.get_running_loop(), job=job, attempt=attempt, headers=headers)
        heartbeat = asyncio.create_task(self._heartbeat(msg))
        try:
            await self._publish("running", run, state=RUNNING, message=f"running on {self.trainer_id} (attempt {attempt})")
            log.info("job %s: attempt %d on %s", job.job_id, attempt, self.trainer_id)
            outcome = await self._train(run)
        except Exception as exc:  # noqa: BLE001 - anything that went wrong is the job's failure
            log.exception("job %s failed", job.job_id)
            heartbeat.cancel()
            await self._publish("failed", run, state=FAILED, message=f"{type(exc).__name__}: {exc}"[:4000])
            await msg.ack()
            return
        finally:
            heartbeat.cancel()
        if outcome == "cancelled":
            log.info("job %s cancelled: stopped, nothing published", job.job_id)
            await msg.ack()
        elif outcome == "interrupted":
            log.info("job %s handed back for another trainer (checkpoint saved)", job.job_id)
            await msg.nak()
        else:
            await msg.ack()

    async def _heartbeat(self, msg: Any) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            try:
                await msg.in_progress()
            except Exception as exc:  # noqa: BLE001
                log.warning("in-progress ack failed: %s", exc)

    async def _dead_letter(self, msg: Any, error: str) -> None:
        from .contracts import events_pb2, to_json

        letter = events_pb2.DeadLetter(
            original_subject=msg.subject,
            stream=TRAINER_QUEUE.stream,
            consumer=TRAINER_QUEUE.durable,
            stream_sequence=msg.metadata.sequence.stream,
            deliveries=msg.metadata.num_delivered,
            error=error[:2000],
        )
        try:
            letter.payload = msg.data.decode("utf-8")
        except UnicodeDecodeError:
            import base64

            letter.payload = base64.b64encode(msg.data).decode()
            letter.payload_base64 = True
        _now_timestamp(letter.failed_at)
        try:
            await self.js.publish(dead_letter_subject(TRAINER_QUEUE.durable), to_json(letter).encode())
        except Exception as exc:  # noqa: BLE001
            log.error("dead-letter publish failed: %s", exc)

    # ------------------------------------------------------------------------------ dataset

    async def _download_dataset(self, job: Any) -> tuple[Path, list[str]]:
        """The dataset version's folder on this machine, and its objects (the lineage)."""
        from nats.js.errors import NotFoundError

        from .data import dataset_dir_of

        folder = Path(self.args.work_dir) / "datasets" / job.dataset_id
        objects: list[str] = []
        try:
            store = await self.js.object_store(BUCKETS.dataset_objects)
        except NotFoundError:
            store = None
        if store is not None:
            try:
                infos = await store.list(ignore_deletes=True)
                objects = sorted(i.name for i in infos if i.name.startswith(f"{job.dataset_id}/"))
            except NotFoundError:
                objects = []
        if store is not None and f"{job.dataset_id}/sft.jsonl" in objects:
            tmp = folder.with_name(folder.name + f".tmp-{os.getpid()}")
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            for name in DATASET_FILES:
                key = f"{job.dataset_id}/{name}"
                if key not in objects:
                    continue
                with (tmp / name).open("wb") as handle:
                    await store.get(key, writeinto=handle)
            shutil.rmtree(folder, ignore_errors=True)
            os.replace(tmp, folder)
            return folder, objects
        local = dataset_dir_of(job.dataset_path) if job.dataset_path else None
        if local is not None and (local / "sft.jsonl").is_file():
            log.info("dataset %s not in the object store: reading %s", job.dataset_id, local)
            return local, objects
        raise FileNotFoundError(
            f"dataset {job.dataset_id}: no {job.dataset_id}/sft.jsonl in the object store {BUCKETS.dataset_objects}, "
            f"and {job.dataset_path or '(no dataset_path)'} is not a dataset folder on this machine"
        )

    # -------------------------------------------------------------------------------- train

    async def _train(self, run: _Running) -> str:
        from .contracts import RUNNING, SUCCEEDED
        from .train import Hooks, TrainingCancelled, TrainingInterrupted, TrainJob, run_training

        job = run.job
        hp = Hyperparameters.from_proto(job.hyperparameters if job.HasField("hyperparameters") else None, job.base_model)
        dataset_dir, objects = await self._download_dataset(job)
        if await self._is_cancelled(job.job_id):
            return "cancelled"
        output = Path(self.args.work_dir) / "adapters" / f"{job.job_id}-{run.attempt}"
        shutil.rmtree(output, ignore_errors=True)
        train_job = TrainJob(
            job_id=job.job_id,
            dataset_dir=dataset_dir,
            output_dir=output,
            checkpoint_dir=Path(self.args.checkpoint_dir),
            hyperparameters=hp,
            recall_max_new_tokens=self.args.recall_max_new_tokens,
        )

        def call(coro: Any, timeout: float = 60.0) -> Any:
            return asyncio.run_coroutine_threadsafe(coro, run.loop).result(timeout)

        def on_progress(progress: Any) -> None:
            message = progress.to_proto()
            if progress.step not in run.published_steps:
                run.published_steps.add(progress.step)
                try:
                    call(self._publish("progress", run, step=progress.step, state=RUNNING, progress=message,
                                       message=f"step {progress.step}/{progress.total_steps}"))
                except Exception as exc:  # noqa: BLE001 - a lost progress event is not worth the job
                    log.warning("progress publish failed: %s", exc)
            if call(self._is_cancelled(job.job_id)):
                run.cancelled = True
                raise TrainingCancelled(job.job_id)

        def on_phase(name: str) -> None:
            log.info("job %s: %s", job.job_id, name)
            if name != "loading" and call(self._is_cancelled(job.job_id)):
                run.cancelled = True
                raise TrainingCancelled(job.job_id)

        hooks = Hooks(on_progress=on_progress, should_stop=self._stopping.is_set, on_phase=on_phase)
        try:
            result = await asyncio.to_thread(run_training, train_job, hooks)
        except TrainingCancelled:
            return "cancelled"
        except TrainingInterrupted:
            return "interrupted"
        if await self._is_cancelled(job.job_id):
            return "cancelled"

        adapter = await self._upload(run, hp, result, objects)
        last = result.losses[-1][0] if result.losses else result.total_steps
        from .contracts import TrainingProgress

        final = TrainingProgress(
            step=last, total_steps=result.total_steps, epoch=result.metrics.get("epochs", 0.0),
            loss=result.metrics.get("final_loss", 0.0), resumed_from_step=result.resumed_from_step,
            tokens_per_second=result.metrics.get("tokens_per_second", 0.0),
        )
        await self._publish(
            "succeeded", run, state=SUCCEEDED, message=f"adapter {adapter.adapter_id}", adapter=adapter,
            adapter_id=adapter.adapter_id, metrics=adapter.metrics, recall=adapter.recall, progress=final,
        )
        log.info("job %s succeeded: adapter %s (%s)", job.job_id, adapter.adapter_id,
                 json.dumps({k: round(v, 4) for k, v in result.metrics.items()}))
        if not self.args.keep_checkpoints:
            shutil.rmtree(Path(self.args.checkpoint_dir) / job.job_id, ignore_errors=True)
        shutil.rmtree(output, ignore_errors=True)
        return "succeeded"

    async def _upload(self, run: _Running, hp: Hyperparameters, result: Any, objects: list[str]) -> Any:
        from nats.js.errors import NotFoundError

        from .contracts import Adapter

        job = run.job
        weights_sha = sha256_file(result.output_dir / "adapter_model.safetensors")
        adapter_id = adapter_id_for(job.job_id, weights_sha)
        try:
            store = await self.js.object_store(BUCKETS.adapter_objects)
        except NotFoundError:
            store = await self.js.create_object_store(BUCKETS.adapter_objects)
        adapter = Adapter(
            adapter_id=adapter_id,
            job_id=job.job_id,
            base_model=hp.base_model,
            dataset_id=job.dataset_id,
            dataset_version=job.dataset_version,
            sha256=weights_sha,
        )
        adapter.dataset_objects.extend(objects)
        adapter.hyperparameters.CopyFrom(hp.to_proto())
        adapter.metrics.update(result.metrics)
        if result.recall is not None:
            adapter.recall.CopyFrom(result.recall.to_proto())
        for name in result.files:
            path = result.output_dir / name
            digest = sha256_file(path)
            with path.open("rb") as handle:
                await store.put(f"{adapter_id}/{name}", handle)
            adapter.files.add(name=name, sha256=digest, size=path.stat().st_size)
        _now_timestamp(adapter.created_at)
        return adapter


async def run_worker(args: WorkerArguments, install_signals: bool = True) -> int:
    worker = Worker(args)
    loop = asyncio.get_running_loop()
    if install_signals:
        import signal

        signals = {"count": 0}

        def on_signal() -> None:
            signals["count"] += 1
            if signals["count"] > 1:
                log.warning("second signal: exiting now")
                os._exit(130)
            log.info("stopping: the running job checkpoints at the end of its step and is handed back")
            worker.stop()

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, on_signal)
    started = time.monotonic()
    status = await worker.run()
    log.info("worker stopped after %.0fs, %d job(s)", time.monotonic() - started, worker.jobs_handled)
    return status
