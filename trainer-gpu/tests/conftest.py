from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parent
PACKAGE = TESTS.parent
REPO = PACKAGE.parent
FIXTURE_DATASET = TESTS / "fixtures" / "dataset"

# The tiny model's matrices are too small for threads; on a shared 2-core machine OpenMP's
# spinning threads make it 10-30x slower (also inherited by the worker subprocesses).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# No test may reach the Hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

# The contracts are generated from proto/ (gitignored); make sure they are there and current.
sys.path.insert(0, str(PACKAGE / "scripts"))
import generate_contracts  # noqa: E402

generate_contracts.generate()


def missing(what: str) -> None:
    """Skips a test whose tool or built package is missing here; fails it under CI (``CI`` set),
    where npm test installs and builds everything first, so that nothing is skipped silently."""
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {what}")
    pytest.skip(what)


def node_json(script: str, *modules: Path, stdin: str | None = None, what: str) -> Any:
    """Runs an ES-module snippet with node against built TypeScript modules (their file URLs are
    ``process.argv[1:]``) and returns what it printed, parsed as JSON: how a test compares the
    TypeScript side of a shared contract with this package's."""
    node = shutil.which("node")
    if node is None or not all(module.exists() for module in modules):
        missing(f"node or {what} is missing")
    proc = subprocess.run(
        [str(node), "--input-type=module", "-e", script, *(module.as_uri() for module in modules)],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture
def fixture_dataset(tmp_path: Path) -> Path:
    """A copy of the dataset version built by scripts/make_fixture_dataset.mjs."""
    target = tmp_path / "dataset"
    shutil.copytree(FIXTURE_DATASET, target)
    return target


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def nats_server(tmp_path: Path):
    """A fresh nats-server with JetStream (Debian's nats-server 2.9), stopped after the test."""
    binary = shutil.which("nats-server") or ("/usr/sbin/nats-server" if Path("/usr/sbin/nats-server").exists() else None)
    if binary is None:
        missing("nats-server is not installed (devstack installs it)")
    port = free_port()
    store = tmp_path / "nats"
    proc = subprocess.Popen(
        [binary, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", str(store)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"nats-server exited: {proc.stderr.read().decode()}") from None
            time.sleep(0.05)
    else:
        proc.kill()
        raise RuntimeError("nats-server did not start")
    yield f"nats://127.0.0.1:{port}"
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
