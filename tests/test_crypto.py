"""Secrets at rest: encrypted, rotatable, and a wrong key is a clear error."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from idp.crypto import DecryptionError
from idp.crypto import SecretBox
from idp.crypto import derive_key


def test_encrypt_decrypt_and_rotate_keys():
    old, new = Fernet.generate_key(), Fernet.generate_key()
    token = SecretBox([old]).encrypt("JBSWY3DPEHPK3PXP")
    assert "JBSWY3DP" not in token
    rotated_box = SecretBox([new, old])
    assert rotated_box.decrypt_str(token) == "JBSWY3DPEHPK3PXP"
    assert SecretBox([new]).decrypt_str(rotated_box.rotate(token)) == "JBSWY3DPEHPK3PXP"
    with pytest.raises(DecryptionError):
        SecretBox([Fernet.generate_key()]).decrypt(token)


def test_derived_key_depends_on_the_secret():
    assert derive_key("a") != derive_key("b")
    assert SecretBox([derive_key("a")]).decrypt_str(SecretBox([derive_key("a")]).encrypt("x")) == "x"
