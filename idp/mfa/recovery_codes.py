"""Recovery codes: a set issued whole and shown once, each code used once, stored as digests."""

from __future__ import annotations

import json
from collections.abc import Sequence

from idp.clock import Clock
from idp.crypto import SecretBox
from idp.events import EventRecorder
from idp.events import EventTag
from idp.events import Product
from idp.mail import MailService
from idp.mfa import recovery
from idp.mfa.ports import MfaStore
from idp.mfa.ports import ShortLivedStore
from idp.model import RequestContext
from idp.model import User

# Plain-text codes are kept (encrypted) this long after generation so the page can show them,
# offer the download and print; then they exist only as digests.
SHOWN_CODES_TTL = 600


class RecoveryCodeSets:
    """Accounts' sets of recovery codes. The first of `keys` hashes new codes; codes hashed
    before an upgrade are under the others (decision 0610)."""

    def __init__(
        self, *, sql: MfaStore, cache: ShortLivedStore, box: SecretBox, events: EventRecorder, mail: MailService,
        clock: Clock, keys: Sequence[bytes], count: int, warn_below: int,
    ) -> None:
        self.sql, self.cache, self.box, self.events, self.mail, self.clock = sql, cache, box, events, mail, clock
        self.keys, self.count, self.warn_below = list(keys), count, warn_below

    def _shown_key(self, user: User) -> str:
        return self.cache.user_key(user.id, "codes:shown")

    def regenerate(self, user: User, ctx: RequestContext) -> list[str]:
        """A new set; the previous codes stop working in the same transaction."""
        codes = recovery.generate(self.count)
        self.sql.replace_codes(user.id, [recovery.digest(c, self.keys[0]) for c in codes], self.clock.now())
        self.cache.put(self._shown_key(user), self.box.encrypt(json.dumps(codes)), SHOWN_CODES_TTL)
        self.events.record_event(
            EventTag.MFA_RECOVERY_GENERATED, ctx=ctx, user_id=user.id, details={"count": len(codes)}
        )
        return codes

    def shown(self, user: User) -> list[str] | None:
        """The codes generated in the last minutes, for the page that shows them once."""
        stored = self.cache.get(self._shown_key(user))
        if stored is None:
            return None
        codes: list[str] = json.loads(self.box.decrypt_str(stored))
        return codes

    def forget_shown(self, user: User) -> None:
        self.cache.delete(self._shown_key(user))

    def use(self, user: User, code: str | None, ctx: RequestContext) -> int:
        """Burn one code (atomically: a code works once even under concurrent use); returns how many remain.
        Tried under each key in turn: a set hashed before an upgrade works until used or replaced."""
        recovery.normalise(code)
        if not any(self.sql.use_code(user.id, recovery.digest(code or "", key), self.clock.now())
                   for key in self.keys):
            raise recovery.WrongRecoveryCodeError()
        left = self.sql.codes_left(user.id)
        self.events.record_event(
            EventTag.MFA_RECOVERY_USED, ctx=ctx, user_id=user.id, product=Product.SIGNIN, details={"left": left}
        )
        self.mail.queue_for(
            user, "mfa_recovery_code_used", left=left,
            ip=ctx.ip, when=self.clock.now(),
        )
        return left

    def left(self, user: User) -> int:
        return self.sql.codes_left(user.id)

    def has(self, user: User) -> bool:
        return self.sql.has_codes(user.id)

    def few_left(self, user: User) -> bool:
        return self.sql.has_codes(user.id) and self.sql.codes_left(user.id) < self.warn_below

    def delete(self, user: User) -> None:
        self.sql.delete_codes(user.id)
