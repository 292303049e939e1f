"""Real servers for the production-shape tier: a test CA, nginx terminating TLS, a private
PostgreSQL cluster, private redis-server processes and gunicorn's asgi workers.

Every server is a child process of the test run, on its own port (and, for the multi-host
tests, its own network namespace), started from Debian's or PyPI's packages and stopped at the
end even when a test fails. Nothing here touches the machine's own PostgreSQL or Redis data.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
NGINX = "/usr/sbin/nginx"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
REDIS_SERVER = "/usr/bin/redis-server"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def wait_until(check: Callable[[], Any], *, timeout: float, what: str, interval: float = 0.05) -> Any:
    """Poll `check` until it returns something truthy; raise (never fall through) at the deadline."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
        except Exception as exc:
            last = exc
        else:
            if result:
                return result
        time.sleep(interval)
    raise TimeoutError(f"{what}: not within {timeout} s" + (f" (last error: {last!r})" if last else ""))


def listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def stop_process(process: subprocess.Popen[Any], *, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
    if process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


# -- TLS ------------------------------------------------------------------------------------


class TestCA:
    """A certificate authority made for one test run, and server or client certificates it signs."""

    __test__ = False  # not a test class, whatever its name

    def __init__(self, folder: Path) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "idp test CA")])
        now = dt.datetime.now(dt.UTC)
        self._name = name
        self._cert = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(self._key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                key_encipherment=False, data_encipherment=False, key_agreement=False,
                encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self._key.public_key()), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        self.cert_path = folder / "ca.pem"
        self.cert_path.write_bytes(self._pem(self._cert))

    @staticmethod
    def _pem(cert: Any) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return bytes(cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, name: str, *, dns: Sequence[str] = (), ips: Sequence[str] = (), client: bool = False) -> tuple[Path, Path]:
        """(certificate, key) PEM files for `name`, valid for the given names and addresses."""
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        alt: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
        alt += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
        usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(self._name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()), critical=False)
        )
        if alt:
            builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
        cert = builder.sign(self._key, hashes.SHA256())
        cert_path, key_path = self.folder / f"{name}.pem", self.folder / f"{name}.key"
        cert_path.write_bytes(self._pem(cert))
        key_path.write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        key_path.chmod(0o600)
        return cert_path, key_path


NGINX_SITE = """
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {folder}/body;
  proxy_temp_path {folder}/proxy;
  fastcgi_temp_path {folder}/fastcgi;
  uwsgi_temp_path {folder}/uwsgi;
  scgi_temp_path {folder}/scgi;
  upstream idp {{
{upstreams}
    keepalive 16;
  }}
  server {{
    listen {listen} ssl;
    server_name {server_name};
    ssl_certificate {cert};
    ssl_certificate_key {key};
    ssl_protocols TLSv1.2 TLSv1.3;
    # The profile picture takes up to 5 MB; every other form is held to 1 MB by the service itself.
    client_max_body_size 6m;
    location / {{
      proxy_pass http://idp;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host {forwarded_host};
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host {forwarded_host};
      proxy_set_header X-Forwarded-Port $server_port;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_next_upstream error timeout;
      proxy_read_timeout 30s;
    }}
  }}
}}
"""


class Nginx:
    """Debian's nginx terminating TLS on `https://<server_name>:<port>` in front of `upstreams`
    (host:port of gunicorn or uvicorn), with the forwarded headers the app trusts one hop of.
    `forwarded_host` is what nginx sends as Host and X-Forwarded-Host: `$host` has no port,
    which suits port 443; on another port `$host:$server_port` keeps it in the URLs the app makes."""

    def __init__(self, folder: Path, ca: TestCA, upstreams: Sequence[str], *, server_name: str = "localhost",
                 host: str = "127.0.0.1", forwarded_host: str = "$host") -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.host, self.port = host, free_port(host)
        self.server_name = server_name
        self.url = f"https://{server_name}:{self.port}"
        cert, key = ca.issue(f"nginx-{self.port}", dns=[server_name], ips=[host])
        self.conf = folder / "nginx.conf"
        self.conf.write_text(NGINX_SITE.format(
            folder=folder, listen=f"{host}:{self.port}", server_name=server_name, cert=cert, key=key,
            forwarded_host=forwarded_host,
            upstreams="\n".join(f"    server {u} max_fails=0;" for u in upstreams),
        ))
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Nginx:
        self.process = subprocess.Popen(
            [NGINX, "-p", str(self.folder), "-c", str(self.conf), "-e", str(self.folder / "error.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        process = self.process

        def up() -> bool:
            if process.poll() is not None:
                log = self.folder / "error.log"
                raise RuntimeError("nginx exited: " + (log.read_text() if log.exists() else "no log"))
            return listening(self.host, self.port)

        wait_until(up, timeout=15, what="nginx listening")
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, sig=signal.SIGQUIT)


# -- PostgreSQL -------------------------------------------------------------------------------


class PrivatePostgres:
    """A PostgreSQL cluster of its own (initdb in a temporary folder, its own port, trust auth),
    run as the `postgres` system user when the tests run as root. `stop()` with `immediate`
    is a crash; `start()` brings the same data back."""

    def __init__(self, *, host: str = "127.0.0.1", listen: Sequence[str] = ()) -> None:
        # Its own folder under the system's temporary directory: pytest's are private to root,
        # and the server runs as `postgres`. `remove()` deletes it.
        folder = Path(tempfile.mkdtemp(prefix="idp-pg-"))
        self.folder = folder
        self.data = folder / "data"
        self.host = host
        self.port = free_port(host)
        self.listen = ",".join([host, *listen])
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(folder, "postgres", "postgres")
        self._run([str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                   "--no-sync", "-E", "UTF8", "--locale", "C"])
        with (self.data / "pg_hba.conf").open("a") as hba:
            hba.write("host all all 0.0.0.0/0 trust\n")

    def _run(self, argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        if self._as_postgres:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        return subprocess.run(argv, check=True, capture_output=True, timeout=60, **kwargs)

    def start(self) -> PrivatePostgres:
        options = (f"-p {self.port} -c listen_addresses='{self.listen}' -c unix_socket_directories='{self.folder}'"
                   " -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "pg.log"),
                   "-o", options, "-w", "-t", "30", "start"])
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop"])

    def remove(self) -> None:
        """Stop the server if it runs, and delete its folder."""
        if self.running():
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def url(self, database: str = "postgres", host: str | None = None) -> str:
        return f"postgresql+psycopg://postgres@{host or self.host}:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new database at the current schema; its SQLAlchemy URL."""
        from sqlalchemy import create_engine
        from sqlalchemy import text

        from idp.stores.migrate import upgrade

        admin = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()
        url = self.url(name)
        upgrade(url)
        return url


# -- Redis ----------------------------------------------------------------------------------


class RedisServer:
    """One private redis-server (no persistence unless asked), optionally a replica of another.
    `kill()` is a crash, `freeze()`/`thaw()` a server that stops answering."""

    def __init__(self, folder: Path, *, host: str = "127.0.0.1", port: int | None = None,
                 args: Sequence[str] = ()) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.host = host
        self.port = port or free_port(host)
        self.args = list(args)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def start(self) -> RedisServer:
        argv = [REDIS_SERVER, "--bind", self.host, "--port", str(self.port), "--dir", str(self.folder),
                "--save", "", "--appendonly", "no", "--logfile", str(self.folder / "redis.log"),
                "--protected-mode", "no", *self.args]
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        process = self.process

        def up() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"redis-server {self.address} exited")
            if "--tls-port" in self.args:  # TLS only: redis-cli would need the certificates
                return listening(self.host, self.port)
            return listening(self.host, self.port) and self.cli("PING").strip() == "PONG"

        wait_until(up, timeout=15, what=f"redis-server {self.address}")
        return self

    def cli(self, *command: str) -> str:
        done = subprocess.run(["redis-cli", "-h", self.host, "-p", str(self.port), *command],
                              capture_output=True, text=True, timeout=10, check=False)
        return done.stdout

    def kill(self) -> None:
        if self.process is not None:
            stop_process(self.process, sig=signal.SIGKILL)

    def freeze(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGCONT)
            stop_process(self.process)


# -- gunicorn ---------------------------------------------------------------------------------

CHEAP_ARGON2_ENV = {"IDP_PASSWORD_TIME_COST": "1", "IDP_PASSWORD_MEMORY_COST": "64", "IDP_PASSWORD_PARALLELISM": "1"}


def service_env(instance: Path, **values: str) -> dict[str, str]:
    """The environment of a service process: the machine's, less any IDP_* of the caller, plus
    `values` (IDP_* settings)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IDP_", "PROMETHEUS_"))}
    env.update(IDP_INSTANCE_PATH=str(instance), IDP_LOG_JSON_FORMAT="false", IDP_ACCESS_LOG="off")
    env.update(values)
    return env


class Gunicorn:
    """gunicorn's asgi workers running `idp.asgi:create_asgi_app()` with config/gunicorn.conf.py,
    optionally inside a network namespace (`netns`), logging to `<folder>/gunicorn.log`."""

    def __init__(self, folder: Path, env: dict[str, str], *, host: str = "127.0.0.1", port: int | None = None,
                 workers: int = 2, netns: str | None = None) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.host = host
        self.port = port or free_port("127.0.0.1" if netns else host)
        self.netns = netns
        metrics = folder / "metrics"
        metrics.mkdir(exist_ok=True)
        self.env = env | {"IDP_BIND": f"{host}:{self.port}", "IDP_WORKERS": str(workers),
                          "PROMETHEUS_MULTIPROC_DIR": str(metrics)}
        self.process: subprocess.Popen[bytes] | None = None
        self.log = folder / "gunicorn.log"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, *, ready: bool = True) -> Gunicorn:
        argv = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "config" / "gunicorn.conf.py"),
                "idp.asgi:create_asgi_app()"]
        if self.netns:
            argv = ["ip", "netns", "exec", self.netns, *argv]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(argv, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            cwd=str(ROOT), start_new_session=True)
        if ready:
            self.wait_ready()
        return self

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        """A request to the workers themselves (from this namespace: needs a reachable host)."""
        session = requests.Session()
        session.trust_env = False
        try:
            return session.get(self.url + path, timeout=kwargs.pop("timeout", 10), **kwargs)
        finally:
            session.close()

    def wait_ready(self, timeout: float = 60) -> None:
        process = self.process
        assert process is not None

        def ready() -> bool:
            if process.poll() is not None:
                raise RuntimeError("gunicorn exited:\n" + self.log.read_text()[-4000:])
            return self.get("/readyz", timeout=5).status_code == 200

        wait_until(ready, timeout=timeout, what=f"gunicorn {self.address} ready", interval=0.2)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                return
            try:
                self.process.wait(timeout=25)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    def errors_logged(self) -> list[str]:
        """Lines of the log that report an unhandled error (a traceback or a 500)."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return [line for line in text.splitlines() if "Traceback" in line or "unhandled error" in line]


def https_session(ca: TestCA) -> requests.Session:
    """A requests session that trusts only the test CA and ignores the environment's proxies."""
    session = requests.Session()
    session.trust_env = False
    session.verify = str(ca.cert_path)
    return session
