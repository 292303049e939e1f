"""A directory's form_post answer, parked for one same-site round trip (a mixin of FederationService).

A form_post from the directory is a cross-site POST: the browser does not send our Lax cookies
with it, so the state cannot be checked against the browser yet. The answer waits server-side
for a minute under a fresh id, and the browser comes back with that id by a same-site GET, which
carries the cookie that binds the state.
"""

from __future__ import annotations

import secrets

from idp.federation.ports import FlowStateStore

RESUME_TTL = 120
MAX_STATE = 200
MAX_RESUME_ID = 100


class AnswerParking:
    """Parking and resuming answers (it reads the attribute below)."""

    state: FlowStateStore

    def park_answer(self, params: dict[str, str]) -> str | None:
        """Park the answer for RESUME_TTL seconds and return the id to resume it with, or None
        when its state names no round trip we started (missing, too long, unknown, used or
        expired): only answers to our own flows are parked, so the callback cannot fill the store."""
        state = params.get("state", "")
        if not state or len(state) > MAX_STATE or not self.state.has_state(state):
            return None
        resume_id = secrets.token_urlsafe(24)
        self.state.put_resume(resume_id, params, RESUME_TTL)
        return resume_id

    def resume_answer(self, resume_id: str) -> dict[str, str] | None:
        """The parked answer, taken away at once (a resume id works once), or None when there is
        none (unknown, used or expired)."""
        return self.state.take_resume(resume_id[:MAX_RESUME_ID])
