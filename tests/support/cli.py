"""The `bot` command as a user runs it: in a subprocess, on its own data directory."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def run(command: str, *, data_dir: Path, env: dict[str, str] | None = None, stdin: str | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "REDIS_CLUSTER", "BOT_CONTENT_DIR")}
    environment.update(PATH=f"{BIN}{os.pathsep}{environment.get('PATH', '')}", BOT_DATA_DIR=str(data_dir))
    environment.update(env or {})
    return subprocess.run(["bash", "-c", command], input=stdin, capture_output=True, text=True,
                          env=environment, timeout=timeout)
