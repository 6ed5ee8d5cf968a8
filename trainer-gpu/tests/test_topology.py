"""The trainer and the TypeScript services read one topology file (packages/bus/src/topology.json)."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from conftest import REPO, missing, node_json
from trajectory_trainer import topology
from trajectory_trainer.topology import (
    BUCKETS,
    CLAIM_BUCKET,
    CLAIM_CHECK_HEADER,
    EVENTS_DUPLICATE_WINDOW_S,
    EVENTS_MAX_AGE_S,
    EVENTS_STREAM,
    EVENTS_SUBJECTS,
    TOPOLOGY_FILE,
    TRAINER_QUEUE,
    dead_letter_subject,
    training_subject,
)

BUS = REPO / "packages" / "bus"
SOURCE = BUS / "src" / "topology.json"


@pytest.fixture(scope="module")
def data() -> dict:
    if not SOURCE.exists():
        missing("packages/bus/src/topology.json is not in this checkout")
    return json.loads(SOURCE.read_text())


def test_the_package_file_is_the_bus_file(data):
    # A link in a checkout (an editable install); a wheel holds a copy of the same bytes.
    if TOPOLOGY_FILE.is_symlink():
        assert TOPOLOGY_FILE.resolve() == SOURCE.resolve()
    assert TOPOLOGY_FILE.read_bytes() == SOURCE.read_bytes()


def test_typescript_reads_the_file_and_keeps_no_names_of_its_own(data):
    source = (BUS / "src" / "topology.ts").read_text()
    assert "from './topology.json' with { type: 'json' }" in source
    events = (BUS / "src" / "events.ts").read_text()
    for name in (EVENTS_STREAM, TRAINER_QUEUE.durable, BUCKETS.training_jobs, BUCKETS.claims, CLAIM_CHECK_HEADER):
        assert f"'{name}'" not in source and f"'{name}'" not in events, f"{name} is spelled out in TypeScript again"


def test_python_values_are_the_files(data):
    events = data["streams"]["events"]
    assert EVENTS_STREAM == events["name"]
    assert list(EVENTS_SUBJECTS) == events["subjects"]
    assert EVENTS_DUPLICATE_WINDOW_S * 1000 == events["duplicateWindowMs"]
    assert EVENTS_MAX_AGE_S == events["maxAgeDays"] * 24 * 60 * 60
    trainer = data["workQueues"]["trainer"]
    assert (
        TRAINER_QUEUE.stream,
        TRAINER_QUEUE.durable,
        TRAINER_QUEUE.filter_subject,
        TRAINER_QUEUE.max_deliver,
        list(TRAINER_QUEUE.backoff_ms),
        TRAINER_QUEUE.ack_wait_ms,
        TRAINER_QUEUE.max_ack_pending,
    ) == (
        trainer["stream"],
        trainer["durable"],
        trainer["filterSubject"],
        trainer["maxDeliver"],
        trainer["backoffMs"],
        trainer["ackWaitMs"],
        trainer["maxAckPending"],
    )
    assert TRAINER_QUEUE.filter_subject == training_subject("queued")
    # Every bucket of the file has its field (a bucket added there needs one here).
    assert {topology._camel(name): value for name, value in asdict(BUCKETS).items()} == data["buckets"]
    assert CLAIM_CHECK_HEADER == data["claimCheckHeader"]
    assert CLAIM_BUCKET == data["buckets"]["claims"]


def test_typescript_and_python_give_the_same_values(data):
    """What the built @trajectory/bus exports, next to what this package does."""
    script = (
        "const t = await import(process.argv[1]);"
        "const e = await import(process.argv[2]);"
        "console.log(JSON.stringify({"
        " stream: t.STREAMS.events.name, subjects: t.STREAMS.events.subjects,"
        " maxAgeNanos: t.STREAMS.events.max_age, duplicateNanos: t.STREAMS.events.duplicate_window,"
        " trainer: t.WORK_QUEUES.trainer, buckets: t.BUCKETS,"
        " training: t.SUBJECTS.training('queued'), deadLetter: t.SUBJECTS.deadLetter('trainer'),"
        " header: e.CLAIM_CHECK_HEADER, claimBucket: e.CLAIM_BUCKET }));"
    )
    ts = node_json(
        script, BUS / "dist" / "topology.js", BUS / "dist" / "events.js", what="the built bus package (packages/bus/dist)"
    )
    assert ts["stream"] == EVENTS_STREAM
    assert tuple(ts["subjects"]) == EVENTS_SUBJECTS
    assert ts["maxAgeNanos"] == EVENTS_MAX_AGE_S * 10**9
    assert ts["duplicateNanos"] == EVENTS_DUPLICATE_WINDOW_S * 10**9
    assert ts["trainer"] == {
        "stream": TRAINER_QUEUE.stream,
        "durable": TRAINER_QUEUE.durable,
        "filterSubject": TRAINER_QUEUE.filter_subject,
        "maxDeliver": TRAINER_QUEUE.max_deliver,
        "backoffMs": list(TRAINER_QUEUE.backoff_ms),
        "ackWaitMs": TRAINER_QUEUE.ack_wait_ms,
        "maxAckPending": TRAINER_QUEUE.max_ack_pending,
    }
    assert ts["buckets"] == {topology._camel(name): value for name, value in asdict(BUCKETS).items()}
    assert ts["training"] == training_subject("queued")
    assert ts["deadLetter"] == dead_letter_subject(TRAINER_QUEUE.durable)
    assert (ts["header"], ts["claimBucket"]) == (CLAIM_CHECK_HEADER, CLAIM_BUCKET)
