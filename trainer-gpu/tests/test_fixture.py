"""The committed fixture dataset is what the samples service's code builds today.

Regenerate it with ``node trainer-gpu/scripts/make_fixture_dataset.mjs`` after a change to the
samples package (needs its dist/: ``npm run build -w @trajectory/samples``).
"""

from __future__ import annotations

import shutil
import subprocess

from conftest import FIXTURE_DATASET, PACKAGE, REPO, missing


def test_fixture_matches_the_samples_package(tmp_path):
    node = shutil.which("node")
    if node is None or not (REPO / "packages" / "samples" / "dist" / "index.js").exists():
        missing("node or the built samples package (packages/samples/dist) is missing")
    proc = subprocess.run(
        [node, str(PACKAGE / "scripts" / "make_fixture_dataset.mjs"), str(tmp_path)],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert '"gatesPassed":true' in proc.stdout
    for name in ("records.jsonl", "sft.jsonl", "sft.eval.jsonl"):
        assert (tmp_path / name).read_bytes() == (FIXTURE_DATASET / name).read_bytes(), (
            f"{name} differs from what @trajectory/samples builds: run node trainer-gpu/scripts/make_fixture_dataset.mjs"
        )
