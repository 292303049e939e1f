"""Operational endpoints: /healthz (the process answers), /readyz (its stores answer), /metrics."""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import jsonify

from idp import metrics
from idp.web.current import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> Response:
    checks = services().ready()
    if all(checks.values()):
        return jsonify(status="ready", checks=checks)
    down = " and ".join(name for name, ok in checks.items() if not ok)
    # The error shape of every other JSON endpoint, with a hint of when to ask again.
    response = jsonify(status="unavailable", checks=checks, error="temporarily_unavailable",
                       error_description=f"not ready: {down} does not answer")
    response.status_code = 503
    response.headers["Retry-After"] = "5"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/metrics")
def prometheus() -> Response:
    return Response(metrics.render(), mimetype="text/plain; version=0.0.4")
