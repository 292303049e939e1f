"""The token rules both token paths follow, the Flask views on Authlib and the ASGI fast lane:
pure functions of records and claims (no Flask, no Authlib, no stores), so that each rule has
one implementation and the two paths differ only in how they read, write and answer.

| module | the rule |
|---|---|
| `grant` | who and what a token speaks for (`GrantContext`), for a refresh and for a service |
| `bodies` | the claims of access and ID tokens, the token response body, when a refresh or ID token goes with it |
| `refresh` | whether a presented refresh token still stands (client, reuse, revocation, expiry, account, scope) |
| `access` | whether an access token's claims are live; what userinfo releases |
| `introspection` | who may introspect what, and the answer body (active or not, and its fields) |
| `events` | the event each token request records (tag and fields) |
"""
