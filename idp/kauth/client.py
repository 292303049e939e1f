"""`idp-kauth`: the reference kAuth device, on the command line.

It plays the phone: enrols from an enrolment link, keeps its P-256 key in a state file (mode
0600), lists pending approvals with their context and three numbers, approves with a number or
denies, unenrols, and says so when the account removed it (after checking the server's signature
on the notice).

    idp-kauth --state phone.json enrol 'kauth://enrol?v=1&server=...&token=...' --name "My phone"
    idp-kauth --state phone.json pending [--wait 30] [--json]
    idp-kauth --state phone.json approve <challenge-id> <number>
    idp-kauth --state phone.json deny <challenge-id> [--not-me]
    idp-kauth --state phone.json status
    idp-kauth --state phone.json unenrol

Exit status: 0 done, 1 refused by the server or bad input, 3 this device was removed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from idp.kauth import crypto

API = "/api/kauth/v1"
REMOVED = 3


class ClientError(Exception):
    def __init__(self, status: int, payload: dict[str, Any]) -> None:
        super().__init__(f"{status} {payload.get('error', '')}: {payload.get('error_description', '')}")
        self.status = status
        self.payload = payload


class Device:
    """A device's state: server URL, device id, private key, the server's public key."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}

    @property
    def key(self) -> ec.EllipticCurvePrivateKey:
        key = serialization.load_pem_private_key(self.data["private_key"].encode(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)  # noqa: S101 - written by enrol()
        return key

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(self.data, fh, indent=2)

    def request(self, method: str, path: str, payload: dict[str, Any] | None = None, *,
                key: ec.EllipticCurvePrivateKey | None = None, server: str | None = None) -> dict[str, Any]:
        """One signed request; ClientError with the server's JSON error on any refusal."""
        body = json.dumps(payload, separators=(",", ":")).encode() if payload is not None else b""
        full_path = API + path
        timestamp, nonce = str(int(time.time())), secrets.token_urlsafe(18)
        signature = crypto.sign(key or self.key, crypto.request_string(method, full_path, timestamp, nonce, body))
        headers = {"X-Kauth-Timestamp": timestamp, "X-Kauth-Nonce": nonce, "X-Kauth-Signature": signature,
                   "Accept": "application/json"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        if "device_id" in self.data:
            headers["X-Kauth-Device"] = self.data["device_id"]
        url = (server or self.data["server"]) + full_path
        req = urllib.request.Request(url, data=body if payload is not None else None, method=method, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(req, timeout=15) as response:  # noqa: S310 - the server named by the link
                return dict(json.loads(response.read() or b"{}"))
        except urllib.error.HTTPError as exc:
            try:
                error = json.loads(exc.read() or b"{}")
            except ValueError:
                error = {"error": "http_error", "error_description": str(exc)}
            raise ClientError(exc.code, error) from None


def parse_link(link: str) -> tuple[str, str]:
    """(server, token) from `kauth://enrol?v=1&server=...&token=...`."""
    parts = urllib.parse.urlsplit(link.strip())
    query = urllib.parse.parse_qs(parts.query)
    server, token = query.get("server", [""])[0], query.get("token", [""])[0]
    if parts.scheme != "kauth" or not server.startswith(("http://", "https://")) or not token:
        raise ValueError("not a kAuth enrolment link")
    return server.rstrip("/"), token


def enrol(device: Device, link: str, name: str, platform: str) -> dict[str, Any]:
    server, token = parse_link(link)
    key = crypto.generate_key()
    device.data = {"server": server}
    result = device.request("POST", "/devices", {
        "token": token, "name": name, "platform": platform,
        "public_key": crypto.encode_public_key(key.public_key()),
    }, key=key, server=server)
    device.data.update({
        "device_id": result["device_id"], "name": result["name"],
        "server_public_key": result["server_public_key"],
        "private_key": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()).decode(),
    })
    device.save()
    return result


def _ago(iso: str) -> str:
    try:
        seconds = int((dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(iso)).total_seconds())
    except ValueError:
        return iso
    return "just now" if seconds < 60 else f"about {seconds // 60} min ago"


def removed(device: Device, exc: ClientError) -> int:
    """Report a removal, if the notice carries a valid server signature."""
    notice = exc.payload.get("notice") or {}
    if notice and crypto.verify_notice(device.data.get("server_public_key", ""), notice):
        print(f"This device was removed from the account on {notice.get('removed_at')} (by {notice.get('by')}).")
        device.data["removed"] = notice
        device.save()
        return REMOVED
    print("The server says this device was removed, but the notice is not signed by it.", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="idp-kauth", description="Reference kAuth device.")
    parser.add_argument("--state", default=os.environ.get("KAUTH_STATE", "kauth-device.json"),
                        help="file holding this device's key (default: %(default)s)")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("enrol", help="enrol from an enrolment link")
    p.add_argument("link")
    p.add_argument("--name", default="kAuth CLI")
    p.add_argument("--platform", default=sys.platform)
    p = sub.add_parser("pending", help="list pending approval requests")
    p.add_argument("--wait", type=float, default=0, help="poll up to this many seconds until one arrives")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("approve", help="approve with the number the browser shows")
    p.add_argument("challenge")
    p.add_argument("number", type=int)
    p = sub.add_parser("deny", help="refuse a request")
    p.add_argument("challenge")
    p.add_argument("--not-me", action="store_true", help="report that this sign-in was not you")
    sub.add_parser("status", help="whether this device is still enrolled")
    sub.add_parser("unenrol", help="remove this device from the account")
    args = parser.parse_args(argv)
    device = Device(Path(args.state))
    try:
        return _run(args, device)
    except ClientError as exc:
        if exc.status == 410 and exc.payload.get("error") == "device_removed":
            return removed(device, exc)
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    except (ValueError, KeyError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace, device: Device) -> int:
    if args.command == "enrol":
        result = enrol(device, args.link, args.name, args.platform)
        print(f"Enrolled as {result['device_id']} ({result['name']}).")
        return 0
    if "device_id" not in device.data:
        raise ValueError(f"{device.path} holds no enrolled device; run enrol first")
    if args.command == "pending":
        deadline = time.monotonic() + args.wait
        while True:
            challenges = device.request("GET", "/challenges")["challenges"]
            if challenges or time.monotonic() >= deadline:
                break
            time.sleep(0.5)
        if args.json:
            print(json.dumps(challenges))
            return 0
        if not challenges:
            print("No pending request.")
        for c in challenges:
            ctx = c.get("context", {})
            print(f"{c['id']}: sign-in to {ctx.get('application')} from {ctx.get('ip')} "
                  f"({ctx.get('browser') or 'unknown browser'}), {_ago(ctx.get('time', ''))}")
            print("  choose the number your browser shows: " + "   ".join(str(n) for n in c["options"]))
        return 0
    if args.command in ("approve", "deny"):
        decision = "approve" if args.command == "approve" else "deny"
        number = args.number if decision == "approve" else None
        signed = crypto.answer_string(args.challenge, decision, number)
        payload: dict[str, Any] = {"decision": decision, "signature": crypto.sign(device.key, signed)}
        if decision == "approve":
            payload["number"] = number
        elif args.not_me:
            payload["reason"] = "not_me"
        result = device.request("POST", f"/challenges/{args.challenge}/answer", payload)
        print({"approved": "Approved.", "wrong_number": "Wrong number: the sign-in was refused.",
               "denied": "Denied.", "reported": "Denied and reported."}.get(result["status"], result["status"]))
        if result.get("wizard_url"):
            print(f"Secure your account: {result['wizard_url']}")
        return 0 if result["status"] in ("approved", "denied", "reported") else 1
    if args.command == "status":
        info = device.request("GET", "/device")
        print(f"Enrolled as {info['device_id']} ({info['name']}).")
        return 0
    notice = device.request("DELETE", "/device")["notice"]
    print(f"Unenrolled on {notice['removed_at']}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
