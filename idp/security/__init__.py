"""Account security: sessions, lockout, rate limits (and the security center built on them)."""
