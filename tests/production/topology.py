"""Topologies built from the servers in servers.py: two hosts (network namespaces) joined to this
one, a six-node Redis Cluster and a Redis master with a replica watched by three sentinels.

Every server listens on an address of the root namespace that both hosts reach (the root side
of host A's link), and announces that address, so a client in A, in B or here is sent to the
same place by a MOVED answer or a sentinel. Everything is stopped or deleted at the end, even
when a test fails.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import random
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.production.servers import REDIS_SERVER
from tests.production.servers import PrivatePostgres
from tests.production.servers import RedisServer
from tests.production.servers import listening
from tests.production.servers import wait_until

# -- hosts ----------------------------------------------------------------------------------

NETNS_PREFIX = "idph"


def _ip(*argv: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["ip", *argv], capture_output=True, text=True, timeout=30, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(argv)}: {done.stderr.strip()}")
    return done


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_namespaces() -> list[str]:
    """Delete the namespaces this module made in runs whose process is gone (a run killed before
    its clean-up); a namespace of a run still going is left alone."""
    removed = []
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=30, check=False)
    for line in listed.stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        match = re.fullmatch(rf"{NETNS_PREFIX}(\d+)[ab]", name)
        if match and not _alive(int(match.group(1))):
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30, check=False)
            removed.append(name)
    return removed


@dataclass(frozen=True)
class Host:
    """One network namespace: `address` is its own, `gateway` the root-namespace end of its link."""

    name: str  # the namespace
    address: str
    gateway: str

    def argv(self, command: list[str]) -> list[str]:
        """`command` run inside this host."""
        return ["ip", "netns", "exec", self.name, *command]


class Hosts:
    """Hosts A and B: two network namespaces, each joined to the root namespace by a veth pair
    (root 198.18.N.1 <-> A 198.18.N.2, root 198.19.N.1 <-> B 198.19.N.2), with loopback up and a
    default route to the root side, so each reaches every root-side address (both links' root
    ends belong to the root namespace, which answers for its own addresses on any link).
    Servers listen on `server_address` (the root end of A's link)."""

    def __init__(self) -> None:
        remove_stale_namespaces()
        pid = os.getpid()
        index = self._free_index(pid)
        self.a = Host(f"{NETNS_PREFIX}{pid}a", f"198.18.{index}.2", f"198.18.{index}.1")
        self.b = Host(f"{NETNS_PREFIX}{pid}b", f"198.19.{index}.2", f"198.19.{index}.1")
        self._links = {self.a.name: f"ih{pid}a", self.b.name: f"ih{pid}b"}
        self.created: list[str] = []

    @staticmethod
    def _free_index(pid: int) -> int:
        """A third octet whose two /24s no address or route of this machine uses yet."""
        used = _ip("-4", "-o", "addr").stdout + _ip("-4", "route").stdout
        networks = []
        for text in re.findall(r"(\d+\.\d+\.\d+\.\d+(?:/\d+)?)", used):
            with contextlib.suppress(ValueError):
                networks.append(ipaddress.ip_network(text, strict=False))
        for step in range(250):
            index = (pid + step) % 250 + 2
            mine = [ipaddress.ip_network(f"198.18.{index}.0/24"), ipaddress.ip_network(f"198.19.{index}.0/24")]
            if not any(m.overlaps(n) for m in mine for n in networks):
                return index
        raise RuntimeError("no free /24 left in 198.18.0.0/15")

    @property
    def server_address(self) -> str:
        return self.a.gateway

    @property
    def root_addresses(self) -> list[str]:
        return [self.a.gateway, self.b.gateway]

    def create(self) -> Hosts:
        try:
            for host in (self.a, self.b):
                link = self._links[host.name]
                _ip("netns", "add", host.name)
                self.created.append(host.name)
                _ip("link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", host.name)
                _ip("addr", "add", f"{host.gateway}/24", "dev", link)
                _ip("link", "set", link, "up")
                _ip("-n", host.name, "addr", "add", f"{host.address}/24", "dev", "eth0")
                _ip("-n", host.name, "link", "set", "eth0", "up")
                _ip("-n", host.name, "link", "set", "lo", "up")
                _ip("-n", host.name, "route", "add", "default", "via", host.gateway)
            # Each host reaches both root-side addresses, and this namespace reaches each host.
            for host in (self.a, self.b):
                for target in self.root_addresses:
                    done = subprocess.run(host.argv(["python3", "-c", _CONNECT_PROBE, target]),
                                          capture_output=True, text=True, timeout=30, check=False)
                    if done.returncode != 0:
                        raise RuntimeError(f"{host.name} cannot reach {target}: {done.stderr.strip()}")
        except BaseException:
            self.remove()
            raise
        return self

    def remove(self) -> None:
        """Delete both namespaces (their end of each veth pair goes with them, taking the pair)."""
        for name in (self.a.name, self.b.name):
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30, check=False)
        for link in self._links.values():
            subprocess.run(["ip", "link", "del", link], capture_output=True, timeout=30, check=False)
        self.created.clear()

    def exist(self) -> list[str]:
        """Which of this object's namespaces and links still exist."""
        names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=30, check=False).stdout
        links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, timeout=30, check=False).stdout
        found = [n for n in (self.a.name, self.b.name) if re.search(rf"^{n}\b", names, re.M)]
        return found + [link for link in self._links.values() if f" {link}@" in links or f" {link}:" in links]


# A connection refused is an answer too: it proves the route; only a timeout or no route fails.
_CONNECT_PROBE = """
import socket, sys
s = socket.socket(); s.settimeout(3)
try:
    s.connect((sys.argv[1], 9))
except ConnectionRefusedError:
    pass
"""


# -- Redis helpers ----------------------------------------------------------------------------

FAST_SYNC = ["--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"]


def info(node: RedisServer, section: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in node.cli("INFO", section).splitlines():
        name, sep, value = line.strip().partition(":")
        if sep:
            out[name] = value
    return out


def running(node: RedisServer) -> bool:
    return node.process is not None and node.process.poll() is None


# -- Redis Cluster ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ClusterNodeLine:
    id: str
    address: str  # host:port
    flags: frozenset[str]
    master_id: str
    link: str
    slots: tuple[str, ...]

    @property
    def is_master(self) -> bool:
        return "master" in self.flags and not self.failed

    @property
    def failed(self) -> bool:
        return bool({"fail", "fail?", "noaddr", "handshake"} & self.flags)


def cluster_port(host: str, taken: set[int]) -> int:
    """A free port P with P + 10000 free too (a node's cluster bus listens there; P <= 55535)."""
    for _ in range(200):
        port = random.randint(20000, 45000)
        if port not in taken and port + 10000 not in taken and all(_bindable(host, p) for p in (port, port + 10000)):
            taken.update((port, port + 10000))
            return port
    raise RuntimeError("no free pair of ports for a cluster node")


def _bindable(host: str, port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


class RedisCluster:
    """Six cluster-enabled redis-server nodes made into three masters with one replica each by
    `redis-cli --cluster create`. The node timeout is short so a failover takes seconds."""

    def __init__(self, folder: Path, *, host: str, nodes: int = 6, node_timeout_ms: int = 2000) -> None:
        self.folder = folder
        self.host = host
        self.node_timeout_ms = node_timeout_ms
        self.killed_at: float | None = None  # time.monotonic() of the last kill_master
        self.frozen: list[RedisServer] = []
        self.nodes: list[RedisServer] = []
        taken: set[int] = set()
        for i in range(nodes):
            node_folder = folder / f"node{i}"
            self.nodes.append(RedisServer(node_folder, host=host, port=cluster_port(host, taken), args=[
                "--cluster-enabled", "yes", "--cluster-config-file", str(node_folder / "nodes.conf"),
                "--cluster-node-timeout", str(node_timeout_ms), "--cluster-announce-ip", host,
                "--cluster-replica-validity-factor", "0", *FAST_SYNC,
            ]))

    @property
    def seeds(self) -> str:
        """IDP_REDIS_NODES: three of the six nodes (a client learns the others)."""
        return ",".join(n.address for n in self.nodes[:3])

    def env(self) -> dict[str, str]:
        return {"IDP_REDIS_MODE": "cluster", "IDP_REDIS_NODES": self.seeds}

    def start(self) -> RedisCluster:
        try:
            for node in self.nodes:
                node.start()
            done = subprocess.run(
                ["redis-cli", "--cluster", "create", *(n.address for n in self.nodes), "--cluster-replicas", "1",
                 "--cluster-yes"], capture_output=True, text=True, timeout=90, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"redis-cli --cluster create failed:\n{done.stdout}\n{done.stderr}")
            self.wait_healthy(timeout=60)
        except BaseException:
            self.stop()
            raise
        return self

    def node_at(self, address: str) -> RedisServer:
        for node in self.nodes:
            if node.address == address:
                return node
        raise LookupError(address)

    def view(self, node: RedisServer) -> list[ClusterNodeLine]:
        """CLUSTER NODES as `node` sees it."""
        lines = []
        for raw in node.cli("CLUSTER", "NODES").splitlines():
            parts = raw.split()
            if len(parts) < 8:
                continue
            address = parts[1].split("@", 1)[0].split(",", 1)[0]
            lines.append(ClusterNodeLine(parts[0], address, frozenset(parts[2].split(",")), parts[3], parts[7],
                                         tuple(parts[8:])))
        return lines

    def live_nodes(self) -> list[RedisServer]:
        """Nodes running and not frozen."""
        return [n for n in self.nodes if running(n) and n not in self.frozen]

    def masters(self) -> list[RedisServer]:
        """The nodes serving slots now, as every live node agrees (raises while they disagree)."""
        views = {n.address: sorted(line.address for line in self.view(n) if line.is_master and line.slots)
                 for n in self.live_nodes()}
        agreed = {tuple(v) for v in views.values()}
        if len(agreed) != 1:
            raise RuntimeError(f"the nodes do not agree on the masters: {views}")
        return [self.node_at(a) for a in agreed.pop()]

    def master_for_key(self, key: str) -> RedisServer:
        """The node serving `key`'s slot now."""
        probe = self.live_nodes()[0]
        slot = int(probe.cli("CLUSTER", "KEYSLOT", key).strip())
        for line in self.view(probe):
            if not line.is_master:
                continue
            for part in line.slots:
                if part.startswith("["):
                    continue  # a slot being migrated
                first, _, last = part.partition("-")
                if int(first) <= slot <= int(last or first):
                    return self.node_at(line.address)
        raise LookupError(f"no master serves slot {slot}")

    def healthy(self, *, replicas: bool = True) -> bool:
        live = self.live_nodes()
        if not live:
            return False
        for node in live:
            if "cluster_state:ok" not in node.cli("CLUSTER", "INFO"):
                return False
        masters = self.masters()
        if len(masters) != 3:
            return False
        if not replicas:
            return True
        for master in masters:
            replication = info(master, "replication")
            if replication.get("connected_slaves") != "1" or "state=online" not in replication.get("slave0", ""):
                return False
        for node in live:
            if node in masters:
                continue
            replication = info(node, "replication")
            if replication.get("master_link_status") != "up" or replication.get("master_sync_in_progress") != "0":
                return False
        # Every node knows every live node as alive (a restarted node is no longer flagged failed).
        addresses = {n.address for n in live}
        for node in live:
            seen = {line.address for line in self.view(node) if not line.failed}
            if not addresses <= seen:
                return False
        return True

    def wait_healthy(self, *, timeout: float = 30, replicas: bool = True) -> None:
        wait_until(lambda: self.healthy(replicas=replicas), timeout=timeout,
                   what="Redis Cluster ok with three masters" + (" and replicas in sync" if replicas else ""),
                   interval=0.2)

    def kill_master(self, node: RedisServer | None = None) -> RedisServer:
        """SIGKILL one master's process (by its PID): a crash. Returns the node killed."""
        victim = node or self.masters()[0]
        assert victim in self.masters(), f"{victim.address} is not a master"
        assert victim.process is not None
        self.killed_at = time.monotonic()
        os.kill(victim.process.pid, signal.SIGKILL)
        victim.process.wait(timeout=10)
        return victim

    def freeze_master(self, node: RedisServer) -> None:
        """SIGSTOP one master: it keeps its connections but answers nothing (a hung server)."""
        assert node in self.masters(), f"{node.address} is not a master"
        self.frozen.append(node)
        node.freeze()

    def wait_replicated(self, master: RedisServer, *, timeout: float = 10) -> None:
        """Wait until `master`'s replica has received everything written to it so far."""
        target = int(info(master, "replication")["master_repl_offset"])

        def caught_up() -> bool:
            replica = info(master, "replication").get("slave0", "")
            offset = dict(part.split("=", 1) for part in replica.split(",") if "=" in part).get("offset", "-1")
            return int(offset) >= target

        wait_until(caught_up, timeout=timeout, what=f"the replica of {master.address} caught up")

    def wait_failed_over(self, victim: RedisServer, *, timeout: float = 30) -> None:
        """Wait until the live nodes agree on three masters without `victim`, with every slot served."""
        def done() -> bool:
            return victim not in self.masters() and self.healthy(replicas=False)

        wait_until(done, timeout=timeout, what=f"a replica took over from {victim.address}", interval=0.1)

    def heal(self, *, timeout: float = 60) -> None:
        """Thaw every frozen node, restart every node that is down and wait until the cluster is whole."""
        while self.frozen:
            self.frozen.pop().thaw()
        for node in self.nodes:
            if not running(node):
                node.start()
        self.wait_healthy(timeout=timeout)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


# -- Redis Sentinel ---------------------------------------------------------------------------

SENTINEL_CONF = """\
port {port}
bind {host}
protected-mode no
dir {folder}
logfile {folder}/sentinel.log
sentinel announce-ip {host}
sentinel resolve-hostnames no
sentinel monitor {name} {master_host} {master_port} 2
sentinel down-after-milliseconds {name} {down_after}
sentinel failover-timeout {name} {failover_timeout}
sentinel parallel-syncs {name} 1
"""


class SentinelServer(RedisServer):
    """`redis-server <config> --sentinel`; the config file is its own (a sentinel rewrites it)."""

    def __init__(self, folder: Path, *, host: str, name: str, master: RedisServer, down_after_ms: int,
                 failover_timeout_ms: int) -> None:
        super().__init__(folder, host=host)
        self.conf = folder / "sentinel.conf"
        self.conf.write_text(SENTINEL_CONF.format(
            port=self.port, host=host, folder=folder, name=name, master_host=master.host,
            master_port=master.port, down_after=down_after_ms, failover_timeout=failover_timeout_ms))

    def start(self) -> SentinelServer:
        self.process = subprocess.Popen([REDIS_SERVER, str(self.conf), "--sentinel"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        process = self.process

        def up() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"sentinel {self.address} exited")
            return listening(self.host, self.port) and self.cli("PING").strip() == "PONG"

        wait_until(up, timeout=15, what=f"sentinel {self.address}")
        return self


def _pairs(text: str) -> dict[str, str]:
    """redis-cli's answer to SENTINEL MASTER: field and value on alternate lines."""
    lines = text.splitlines()
    return dict(zip(lines[0::2], lines[1::2], strict=False))


def _blocks(text: str) -> list[str]:
    """redis-cli's answer to SENTINEL REPLICAS: one block of field/value lines per replica, each
    starting with `name`."""
    blocks: list[list[str]] = []
    lines = text.splitlines()
    for i in range(0, len(lines) - 1, 2):
        if lines[i] == "name":
            blocks.append([])
        if blocks:
            blocks[-1] += lines[i:i + 2]
    return ["\n".join(b) for b in blocks]


class SentinelGroup:
    """One master, one replica (`--replicaof`), three sentinels with quorum 2."""

    def __init__(self, folder: Path, *, host: str, name: str = "idp-main", down_after_ms: int = 2000,
                 failover_timeout_ms: int = 6000) -> None:
        self.folder, self.host, self.name = folder, host, name
        self.killed_at: float | None = None  # time.monotonic() of the last kill_master
        first = RedisServer(folder / "redis0", host=host, args=FAST_SYNC)
        second = RedisServer(folder / "redis1", host=host, args=[*FAST_SYNC, "--replicaof", host, str(first.port)])
        self.data = [first, second]
        self.sentinels = [
            SentinelServer(folder / f"sentinel{i}", host=host, name=name, master=first,
                           down_after_ms=down_after_ms, failover_timeout_ms=failover_timeout_ms)
            for i in range(3)
        ]

    def env(self) -> dict[str, str]:
        return {"IDP_REDIS_MODE": "sentinel", "IDP_REDIS_SENTINELS": ",".join(s.address for s in self.sentinels),
                "IDP_REDIS_SERVICE_NAME": self.name, "IDP_REDIS_DB": "0"}

    def start(self) -> SentinelGroup:
        try:
            for node in self.data:
                node.start()
            wait_until(lambda: self._replica_in_sync(self.data[0]), timeout=30, what="replica in sync")
            for sentinel in self.sentinels:
                sentinel.start()
            self.wait_agreed(timeout=60)
        except BaseException:
            self.stop()
            raise
        return self

    def _replica_in_sync(self, master: RedisServer) -> bool:
        replication = info(master, "replication")
        if replication.get("role") != "master" or "state=online" not in replication.get("slave0", ""):
            return False
        for node in self.data:
            if node is master or not running(node):
                continue
            theirs = info(node, "replication")
            if (theirs.get("role") != "slave" or theirs.get("master_port") != str(master.port)
                    or theirs.get("master_link_status") != "up" or theirs.get("master_sync_in_progress") != "0"):
                return False
        return True

    def master_address(self) -> str:
        """host:port of the master, as a majority of the sentinels name it (raises without one)."""
        answers = []
        for sentinel in self.sentinels:
            if running(sentinel):
                lines = sentinel.cli("SENTINEL", "get-master-addr-by-name", self.name).split()
                if len(lines) == 2:
                    answers.append(f"{lines[0]}:{lines[1]}")
        for answer in set(answers):
            if answers.count(answer) >= 2:
                return answer
        raise RuntimeError(f"the sentinels do not agree on a master: {answers}")

    def master(self) -> RedisServer:
        address = self.master_address()
        for node in self.data:
            if node.address == address:
                return node
        raise LookupError(address)

    def agreed(self, *, replicas: bool = True) -> bool:
        master = self.master()
        if not running(master) or info(master, "replication").get("role") != "master":
            return False
        for sentinel in self.sentinels:
            state = _pairs(sentinel.cli("SENTINEL", "MASTER", self.name))
            if f"{state.get('ip')}:{state.get('port')}" != master.address:
                return False
            if state.get("num-other-sentinels") != "2" or "s_down" in state.get("flags", "x"):
                return False
            if "OK" not in sentinel.cli("SENTINEL", "CKQUORUM", self.name):
                return False
            if replicas:
                listed = [_pairs(block) for block in _blocks(sentinel.cli("SENTINEL", "REPLICAS", self.name))]
                live = [r for r in listed if not {"s_down", "disconnected"} & set(r.get("flags", "").split(","))]
                if len(live) != len(self.data) - 1:
                    return False
        return not replicas or self._replica_in_sync(master)

    def wait_agreed(self, *, timeout: float = 30, replicas: bool = True) -> None:
        wait_until(lambda: self.agreed(replicas=replicas), timeout=timeout,
                   what="sentinels agree on a master" + (" with its replica in sync" if replicas else ""),
                   interval=0.2)

    def kill_master(self) -> RedisServer:
        """SIGKILL the master's process (by its PID). Returns the node killed."""
        victim = self.master()
        assert victim.process is not None
        self.killed_at = time.monotonic()
        os.kill(victim.process.pid, signal.SIGKILL)
        victim.process.wait(timeout=10)
        return victim

    def wait_failed_over(self, victim: RedisServer, *, timeout: float = 30) -> None:
        """Wait until a majority of the sentinels name a master other than `victim`, and it is one."""
        def done() -> bool:
            address = self.master_address()
            return address != victim.address and info(self.master(), "replication").get("role") == "master"

        wait_until(done, timeout=timeout, what=f"the sentinels replaced {victim.address}", interval=0.1)

    def heal(self, *, timeout: float = 60) -> None:
        """Start every data node that is down, as a replica of the current master, and wait until
        the sentinels agree again and see it, in sync."""
        master = self.master()
        for node in self.data:
            if not running(node):
                # Started as a replica of the current master, as one brings a failed server back.
                node.args = [*FAST_SYNC, "--replicaof", master.host, str(master.port)]
                node.start()
        self.wait_agreed(timeout=timeout)

    def stop(self) -> None:
        for server in [*self.sentinels, *self.data]:
            server.stop()


Topology = RedisCluster | SentinelGroup


# -- fixtures (registered by conftest.py) ------------------------------------------------------


@pytest.fixture(scope="session")
def hosts() -> Iterator[Hosts]:
    """Hosts A and B joined to this namespace; deleted at the end, even when a test fails."""
    made = Hosts()
    try:
        yield made.create()
    finally:
        made.remove()
    left = made.exist()
    assert not left, f"namespaces or links left behind: {left}"


@pytest.fixture(scope="session")
def hosts_postgres(hosts: Hosts) -> Iterator[PrivatePostgres]:
    """One private PostgreSQL cluster on the root side that both hosts reach."""
    postgres = PrivatePostgres(host=hosts.server_address)
    try:
        yield postgres.start()
    finally:
        postgres.remove()


@pytest.fixture(scope="session", params=["cluster", "sentinel"])
def redis_topology(request: pytest.FixtureRequest, hosts: Hosts,
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    """A Redis Cluster (three masters, three replicas) or a Sentinel group (master, replica,
    three sentinels), started once per session on the root side and announcing an address every
    host reaches."""
    folder = tmp_path_factory.mktemp(f"redis-{request.param}")
    made: Topology
    if request.param == "cluster":
        made = RedisCluster(folder, host=hosts.server_address)
    else:
        made = SentinelGroup(folder, host=hosts.server_address)
    made.start()
    try:
        yield made
    finally:
        made.stop()
