"""The embedded default's registrar: a folder a tester reads and writes.

`<folder>/requests/` receives one JSON file per request we make (start or relaunch); a tester
simulates the registrar's answer by writing a result file into `<folder>/results/` (the same
JSON the webhook takes, docs/domains.md), which `idp domain poll` applies and moves to
`results/done/`, or to `results/refused/` with a `.txt` saying why.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path

from idp.clock import Clock
from idp.domains.model import Transfer
from idp.domains.registrar import Delivered

MAX_RESULT = 16 * 1024


class FileRegistrar:
    def __init__(self, folder: Path, clock: Clock) -> None:
        self.folder, self.clock = folder, clock
        self.requests, self.results = folder / "requests", folder / "results"

    def _write(self, kind: str, reference: str, record: dict[str, object]) -> None:
        self.requests.mkdir(parents=True, exist_ok=True)
        # Named so that listing the folder in name order lists the requests in the order made
        # (the wall clock's nanoseconds, not the injected clock, which a test may hold still).
        path = self.requests / f"{time.time_ns():020d}-{reference}-{kind}-{secrets.token_hex(3)}.json"
        # The request holds the authorisation code, as the real registrar receives it: only the
        # service's own user may read it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(record | {"at": self.clock.now().isoformat()}, fh, indent=2)

    def start_transfer(self, domain: str, auth_code: str, *, reference: str) -> None:
        self._write("start", reference, {"action": "start", "reference": reference, "domain": domain,
                                         "auth_code": auth_code})

    def relaunch(self, transfer: Transfer, auth_code: str | None) -> None:
        self._write("relaunch", str(transfer.id), {
            "action": "relaunch", "reference": str(transfer.id), "domain": transfer.domain,
            "auth_code": auth_code, "attempt": transfer.failures + 1,
        })

    def pending_reports(self) -> list[Delivered]:
        if not self.results.is_dir():
            return []
        found = []
        for path in sorted(p for p in self.results.iterdir() if p.is_file() and p.suffix == ".json"):
            try:
                raw = path.read_bytes()
            except OSError as exc:
                found.append(Delivered(path.name, None, f"cannot be read: {exc.strerror}"))
                continue
            if len(raw) > MAX_RESULT:
                found.append(Delivered(path.name, None, "larger than 16 KiB"))
                continue
            try:
                found.append(Delivered(path.name, json.loads(raw)))
            except (ValueError, UnicodeDecodeError):
                found.append(Delivered(path.name, None, "not JSON"))
        return found

    def acknowledge(self, name: str, problem: str | None) -> None:
        target = self.results / ("done" if problem is None else "refused")
        target.mkdir(parents=True, exist_ok=True)
        source = self.results / Path(name).name
        if source.exists():
            source.replace(target / source.name)
        if problem is not None:
            (target / f"{source.name}.txt").write_text(problem + "\n", encoding="utf-8")
