"""The Python names equal the TypeScript topology's (packages/bus/src/topology.ts)."""

from __future__ import annotations

import re

import pytest

from conftest import REPO, missing
from trajectory_trainer.topology import (
    BUCKETS,
    EVENTS_STREAM,
    EVENTS_SUBJECTS,
    TRAINER_QUEUE,
    training_subject,
)

TOPOLOGY = REPO / "packages" / "bus" / "src" / "topology.ts"


@pytest.fixture(scope="module")
def source() -> str:
    if not TOPOLOGY.exists():
        missing("packages/bus/src/topology.ts is not in this checkout")
    return TOPOLOGY.read_text()


def block(source: str, start: str) -> str:
    """The text of the {...} that follows ``start``."""
    at = source.index(start)
    open_at = source.index("{", at)
    depth = 0
    for i in range(open_at, len(source)):
        depth += {"{": 1, "}": -1}.get(source[i], 0)
        if depth == 0:
            return source[open_at : i + 1]
    raise AssertionError(f"unbalanced braces after {start}")


def number(text: str) -> int:
    return int(text.replace("_", ""))


def test_events_stream(source):
    events = block(source, "events: {")
    assert re.search(r"name: '([^']+)'", events).group(1) == EVENTS_STREAM
    subjects = re.findall(r"'([^']+)'", re.search(r"subjects: \[([^\]]*)\]", events).group(1))
    assert tuple(subjects) == EVENTS_SUBJECTS


def test_trainer_queue(source):
    trainer = block(source, "  trainer: {")
    assert "stream: STREAMS.events.name" in trainer
    assert re.search(r"durable: '([^']+)'", trainer).group(1) == TRAINER_QUEUE.durable
    assert re.search(r"filterSubject: SUBJECTS\.training\('(\w+)'\)", trainer).group(1) == "queued"
    assert TRAINER_QUEUE.filter_subject == training_subject("queued")
    assert "training: (state: string) => `trajectory.training.${state}`" in source
    assert number(re.search(r"maxDeliver: ([\d_]+)", trainer).group(1)) == TRAINER_QUEUE.max_deliver
    assert number(re.search(r"ackWaitMs: ([\d_]+)", trainer).group(1)) == TRAINER_QUEUE.ack_wait_ms
    assert number(re.search(r"maxAckPending: ([\d_]+)", trainer).group(1)) == TRAINER_QUEUE.max_ack_pending
    backoff = re.search(r"backoffMs: \[([^\]]*)\]", trainer).group(1)
    assert tuple(number(x.strip()) for x in backoff.split(",") if x.strip()) == TRAINER_QUEUE.backoff_ms


def test_buckets(source):
    buckets = dict(re.findall(r"(\w+): '([^']+)'", block(source, "export const BUCKETS")))
    assert buckets == {
        "trainingJobs": BUCKETS.training_jobs,
        "adapterRegistry": BUCKETS.adapter_registry,
        "adapterObjects": BUCKETS.adapter_objects,
        "datasetManifests": BUCKETS.dataset_manifests,
        "datasetObjects": BUCKETS.dataset_objects,
        "ingestLedger": BUCKETS.ingest_ledger,
        "ingestJobs": BUCKETS.ingest_jobs,
        "ingestedConversations": BUCKETS.ingested_conversations,
        "claims": BUCKETS.claims,
    }
