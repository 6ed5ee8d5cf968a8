"""The JetStream names the trainer shares with the TypeScript side (packages/bus/src/topology.ts).

A test reads topology.ts and checks these values against it, so a rename there fails here.
``ensure_topology`` creates the stream, the trainer's durable consumer and the buckets with the
same settings as the TypeScript services do; the worker never calls it (the training service
owns the consumer), tests and local experiments do.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BUCKETS",
    "CLAIM_BUCKET",
    "CLAIM_CHECK_HEADER",
    "EVENTS_STREAM",
    "EVENTS_SUBJECTS",
    "TRAINER_QUEUE",
    "WorkQueue",
    "ensure_topology",
    "training_subject",
]

EVENTS_STREAM = "TRAJECTORY_EVENTS"
EVENTS_SUBJECTS = (
    "trajectory.conversation.>",
    "trajectory.graph.>",
    "trajectory.dataset.>",
    "trajectory.training.>",
    "trajectory.adapter.>",
)
#: Duplicate window of the events stream (Nats-Msg-Id dedupe), seconds.
EVENTS_DUPLICATE_WINDOW_S = 10 * 60
EVENTS_MAX_AGE_S = 30 * 24 * 60 * 60


def training_subject(state: str) -> str:
    """trajectory.training.<state>: queued, running, progress, succeeded, failed, cancelled."""
    return f"trajectory.training.{state}"


@dataclass(frozen=True)
class WorkQueue:
    stream: str
    durable: str
    filter_subject: str
    max_deliver: int
    backoff_ms: tuple[int, ...]
    ack_wait_ms: int
    max_ack_pending: int


TRAINER_QUEUE = WorkQueue(
    stream=EVENTS_STREAM,
    durable="trainer",
    filter_subject=training_subject("queued"),
    max_deliver=5,
    backoff_ms=(5_000, 30_000, 60_000),
    ack_wait_ms=60_000,
    max_ack_pending=16,
)


@dataclass(frozen=True)
class Buckets:
    training_jobs: str = "trajectory_training_jobs"
    adapter_registry: str = "trajectory_adapter_registry"
    adapter_objects: str = "trajectory_adapters"
    dataset_manifests: str = "trajectory_dataset_manifests"
    dataset_objects: str = "trajectory_datasets"
    ingest_ledger: str = "trajectory_ingest_ledger"
    ingest_jobs: str = "trajectory_ingest_jobs"
    ingested_conversations: str = "trajectory_ingested_conversations"
    claims: str = "trajectory_claims"


BUCKETS = Buckets()

#: Events too large for max_payload travel as a ClaimCheck (packages/bus/src/events.ts).
CLAIM_CHECK_HEADER = "Trajectory-Claim-Check"
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
                retention=api.RetentionPolicy.LIMITS,
                storage=api.StorageType.FILE,
                discard=api.DiscardPolicy.OLD,
                max_age=EVENTS_MAX_AGE_S,
                duplicate_window=EVENTS_DUPLICATE_WINDOW_S,
                num_replicas=1,
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
