"""Discovery and JWKS are cacheable documents: an ETag, and 304 when the client already has them."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize("path", ["/.well-known/openid-configuration", "/oauth/jwks"])
def test_public_documents_answer_304_to_a_matching_etag(client: Any, path: str) -> None:
    first = client.get(path)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert first.get_json()
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    other = client.get(path, headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.get_json() == first.get_json()


def test_the_jwks_etag_changes_when_a_key_is_added(client: Any, oidc: Any, clock: Any) -> None:
    before = client.get("/oauth/jwks").headers["ETag"]
    oidc.keys.rotate()
    clock.advance(minutes=5)  # past the per-process key cache
    after = client.get("/oauth/jwks")
    assert after.headers["ETag"] != before
    assert len(after.get_json()["keys"]) > 2
