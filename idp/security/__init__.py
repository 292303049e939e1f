"""The security center (sessions page, notifications, lockout, activity, the compromised-password
wizard, organisation admins' pages) and app passwords and API tokens, built on idp.foundation."""
