"""gunicorn settings for production: `gunicorn -c config/gunicorn.conf.py 'idp.asgi:create_asgi_app()'`.

Every worker is stateless: sessions, flows and counters live in Redis, everything else in
PostgreSQL, so workers (and machines) can be added behind a load balancer. Each worker runs the
ASGI application on an event loop (uvloop, the C HTTP parser): the OIDC fast lane answers in the
loop, every page and API goes to Flask in a pool of IDP_THREADS threads (default 4).
"""

import multiprocessing
import os
import tempfile

bind = os.environ.get("IDP_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("IDP_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "asgi"
timeout = 30
graceful_timeout = 20
keepalive = 5
# Sign-in requests carry passwords; never log request bodies or query strings with secrets.
# IDP_ACCESS_LOG=off turns the access log off (the benchmark does, as its peer logs nothing).
accesslog = None if os.environ.get("IDP_ACCESS_LOG", "").lower() == "off" else "-"
access_log_format = '{"remote":"%(h)s","method":"%(m)s","path":"%(U)s","status":%(s)s,"bytes":%(B)s,"seconds":%(L)s,"request_id":"%({x-request-id}o)s"}'
errorlog = "-"
forwarded_allow_ips = os.environ.get("IDP_FORWARDED_ALLOW_IPS", "127.0.0.1")
# Prometheus metrics summed over all workers.
if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="idp-metrics-")


def child_exit(server, worker):  # noqa: ARG001 - gunicorn's hook signature
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
