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
def readyz() -> tuple[Response, int]:
    checks = services().ready()
    ok = all(checks.values())
    return jsonify(status="ready" if ok else "unavailable", checks=checks), 200 if ok else 503


@bp.get("/metrics")
def prometheus() -> Response:
    return Response(metrics.render(), mimetype="text/plain; version=0.0.4")
