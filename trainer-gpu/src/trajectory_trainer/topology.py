"""The JetStream names the trainer shares with the TypeScript services.

Both read one file, packages/bus/src/topology.json: this package's ``topology.json`` is a link to
it, which a wheel build (pip install trainer-gpu) turns into a copy, so an installed trainer needs
no checkout. A rename there reaches both sides at once.
``ensure_topology`` creates the stream, the trainer's durable consumer and the buckets with the
same settings as the TypeScript services do; the worker never calls it (the training service
owns the consumer), tests and local experiments do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

__all__ = [
    "BUCKETS",
    "CLAIM_BUCKET",
    "CLAIM_CHECK_HEADER",
    "EVENTS_STREAM",
    "EVENTS_SUBJECTS",
    "TOPOLOGY_FILE",
    "TRAINER_QUEUE",
    "WorkQueue",
    "dead_letter_subject",
    "ensure_topology",
    "training_subject",
]

#: packages/bus/src/topology.json, through the link next to this module (or its copy in a wheel).
TOPOLOGY_FILE = Path(__file__).with_name("topology.json")


def _load() -> dict[str, Any]:
    try:
        return json.loads(TOPOLOGY_FILE.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RuntimeError(
            f"{TOPOLOGY_FILE} is missing: it links to packages/bus/src/topology.json, so the trainer must be "
            "installed from a checkout that has packages/bus (the Dockerfile copies that file beside trainer-gpu/)"
        ) from None


_TOPOLOGY = _load()
_EVENTS = _TOPOLOGY["streams"]["events"]

EVENTS_STREAM: str = _EVENTS["name"]
EVENTS_SUBJECTS: tuple[str, ...] = tuple(_EVENTS["subjects"])
#: Duplicate window of the events stream (Nats-Msg-Id dedupe), seconds.
EVENTS_DUPLICATE_WINDOW_S: int = _EVENTS["duplicateWindowMs"] // 1000
EVENTS_MAX_AGE_S: int = _EVENTS["maxAgeDays"] * 24 * 60 * 60


def training_subject(state: str) -> str:
    """trajectory.training.<state>: queued, running, progress, succeeded, failed, cancelled."""
    return str(_TOPOLOGY["subjects"]["training"]).replace("{state}", state)


def dead_letter_subject(consumer: str) -> str:
    """trajectory.dlq.<consumer>: where a consumer's poison messages go."""
    return str(_TOPOLOGY["subjects"]["deadLetter"]).replace("{consumer}", consumer)


@dataclass(frozen=True)
class WorkQueue:
    stream: str
    durable: str
    filter_subject: str
    max_deliver: int
    backoff_ms: tuple[int, ...]
    ack_wait_ms: int
    max_ack_pending: int


def _work_queue(spec: dict[str, Any]) -> WorkQueue:
    return WorkQueue(
        stream=spec["stream"],
        durable=spec["durable"],
        filter_subject=spec["filterSubject"],
        max_deliver=spec["maxDeliver"],
        backoff_ms=tuple(spec["backoffMs"]),
        ack_wait_ms=spec["ackWaitMs"],
        max_ack_pending=spec["maxAckPending"],
    )


TRAINER_QUEUE = _work_queue(_TOPOLOGY["workQueues"]["trainer"])


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@dataclass(frozen=True)
class Buckets:
    """The file's ``buckets``, under the TypeScript names in snake case (trainingJobs: training_jobs)."""

    training_jobs: str
    adapter_registry: str
    adapter_objects: str
    dataset_manifests: str
    dataset_objects: str
    ingest_ledger: str
    ingest_jobs: str
    ingested_conversations: str
    claims: str


BUCKETS = Buckets(**{f.name: _TOPOLOGY["buckets"][_camel(f.name)] for f in fields(Buckets)})

#: Events too large for max_payload travel as a ClaimCheck (packages/bus/src/events.ts).
CLAIM_CHECK_HEADER: str = _TOPOLOGY["claimCheckHeader"]
CLAIM_BUCKET = BUCKETS.claims


async def ensure_topology(js, *, ack_wait_ms: int | None = None) -> None:
    """Stream, trainer consumer, KV buckets and object stores as the TypeScript services make them.

    ``ack_wait_ms`` overrides the consumer's ack wait (tests of redelivery only).
    """
    from nats.js import api
    from nats.js.errors import NotFoundError

    try:
        await js.stream_info(EVENTS_STREAM)
    except NotFoundError:
        await js.add_stream(
            api.StreamConfig(
                name=EVENTS_STREAM,
                subjects=list(EVENTS_SUBJECTS),
                retention=api.RetentionPolicy(_EVENTS["retention"]),
                storage=api.StorageType(_EVENTS["storage"]),
                discard=api.DiscardPolicy(_EVENTS["discard"]),
                max_age=EVENTS_MAX_AGE_S,
                duplicate_window=EVENTS_DUPLICATE_WINDOW_S,
                num_replicas=_EVENTS["replicas"],
            )
        )
    q = TRAINER_QUEUE
    await js.add_consumer(
        q.stream,
        api.ConsumerConfig(
            durable_name=q.durable,
            ack_policy=api.AckPolicy.EXPLICIT,
            deliver_policy=api.DeliverPolicy.ALL,
            filter_subject=q.filter_subject,
            max_deliver=q.max_deliver,
            ack_wait=(ack_wait_ms or q.ack_wait_ms) / 1000,
            max_ack_pending=q.max_ack_pending,
        ),
    )
    for bucket, history in ((BUCKETS.training_jobs, 5), (BUCKETS.adapter_registry, 1), (BUCKETS.dataset_manifests, 1)):
        try:
            await js.key_value(bucket)
        except NotFoundError:
            await js.create_key_value(bucket=bucket, history=history)
    for store in (BUCKETS.adapter_objects, BUCKETS.dataset_objects):
        try:
            await js.object_store(store)
        except NotFoundError:
            await js.create_object_store(store)
