"""``python -m trajectory_trainer`` is the same as ``trajectory-train``."""

from .cli import main

raise SystemExit(main())
