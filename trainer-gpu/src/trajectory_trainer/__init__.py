"""Trajectory trainer: QLoRA fine-tuning on a Trajectory dataset version, as a NATS worker.

- ``trajectory-train train --dataset DIR``: one local run (train.py);
- ``trajectory-train worker --nats URL``: takes training jobs from JetStream (worker.py).

The heavy modules (torch, transformers, peft) are imported by the submodules that need them, so
``import trajectory_trainer`` and ``trajectory-train --help`` stay quick.
"""

from .args import Hyperparameters, TrainArguments, WorkerArguments

__version__ = "0.2.0"

__all__ = ["Hyperparameters", "TrainArguments", "WorkerArguments", "__version__"]
