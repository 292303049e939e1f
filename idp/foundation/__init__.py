"""The foundation every capability stands on: browser sessions, lockout, rate limits, password
hashing and the breached-password check, and the security review's line type.

Nothing here knows a page, a feature or a store: services take their stores as ports and are
built once by the composition root (idp.container)."""
