"""Secrets at rest and keys derived from the instance secret: encrypted, rotatable, one key per
purpose, and what the keys before decision 0610 encrypted still opens."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.fernet import Fernet
from cryptography.fernet import InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from idp.crypto import DecryptionError
from idp.crypto import KeyedHash
from idp.crypto import Purpose
from idp.crypto import SecretBox
from idp.crypto import derive

# The labels of decision 0610. Changing one changes a key and loses what was stored under it,
# so a change here must come with a legacy key for that purpose.
LABELS = {
    Purpose.AT_REST: (b"idp key derivation", b"idp at-rest encryption key v2"),
    Purpose.CREDENTIALS: (b"idp key derivation", b"idp credential hash key v2"),
    Purpose.RECOVERY_CODES: (b"idp key derivation", b"idp recovery code hash key v2"),
    Purpose.UNLOCK_LINK: (b"idp key derivation", b"idp unlock link key v2"),
    Purpose.PASSWORD_RESET_LINK: (b"idp key derivation", b"idp password reset link key v1"),
    Purpose.KAUTH_NOTICE: (b"idp-kauth", b"server notice key v1"),
    Purpose.DEMO_RP: (b"idp key derivation", b"idp demo relying party key v1"),
    Purpose.PHONE_CODES: (b"idp key derivation", b"idp phone confirmation code key v1"),
    Purpose.SIGNIN_DEVICE: (b"idp key derivation", b"idp sign-in device cookie key v1"),
    Purpose.NOTIFY_ADDRESS_LINK: (b"idp key derivation", b"idp notification address link key v1"),
    Purpose.EMAIL_CHANGE: (b"idp key derivation", b"idp e-mail change link key v1"),
    Purpose.SIGNUP_LINK: (b"idp key derivation", b"idp sign-up verification link key v1"),
    Purpose.ORG_INVITATION: (b"idp key derivation", b"idp organisation invitation link key v1"),
    Purpose.DOMAIN_RELAUNCH_LINK: (b"idp key derivation", b"idp domain transfer relaunch link key v1"),
    Purpose.PARTNER_REQUEST: (b"idp key derivation", b"idp partner request link key v1"),
}


def test_encrypt_decrypt_and_rotate_keys():
    old, new = Fernet.generate_key(), Fernet.generate_key()
    token = SecretBox([old]).encrypt("JBSWY3DPEHPK3PXP")
    assert "JBSWY3DP" not in token
    rotated_box = SecretBox([new, old])
    assert rotated_box.decrypt_str(token) == "JBSWY3DPEHPK3PXP"
    assert SecretBox([new]).decrypt_str(rotated_box.rotate(token)) == "JBSWY3DPEHPK3PXP"
    with pytest.raises(DecryptionError):
        SecretBox([Fernet.generate_key()]).decrypt(token)


def test_every_purpose_is_hkdf_with_its_own_documented_label():
    assert set(LABELS) == set(Purpose)
    for purpose, (salt, info) in LABELS.items():
        expected = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(b"instance secret")
        assert derive("instance secret", purpose) == expected
    assert len({derive("instance secret", p) for p in Purpose}) == len(Purpose)
    assert derive("a", Purpose.AT_REST) != derive("b", Purpose.AT_REST)
    assert len(derive("a", Purpose.KAUTH_NOTICE, length=48)) == 48


def test_a_keyed_hash_offers_the_current_digest_first():
    current, earlier = b"k" * 32, b"e" * 32
    hashes_ = KeyedHash([current, earlier])
    assert hashes_.candidates("secret") == [hashes_.digest("secret"), KeyedHash([earlier]).digest("secret")]
    assert hashes_.digest("secret") != KeyedHash([earlier]).digest("secret")


def _pre_upgrade_at_rest_key(secret: str) -> bytes:
    # What idp.crypto.derive_key returned before decision 0610.
    return base64.urlsafe_b64encode(hashlib.sha256(f"idp-at-rest-v1\x00{secret}".encode()).digest())


def test_what_the_pre_upgrade_derived_key_encrypted_still_decrypts(services):
    assert not services.settings.encryption_keys.get_secret_value()  # the derived keys are in use
    secret = services.settings.secret_key.get_secret_value()
    old = Fernet(_pre_upgrade_at_rest_key(secret)).encrypt(b"JBSWY3DPEHPK3PXP").decode()
    assert services.secrets.decrypt_str(old) == "JBSWY3DPEHPK3PXP"
    # What is written now is under the new key only.
    new = services.secrets.encrypt("JBSWY3DPEHPK3PXP")
    with pytest.raises(InvalidToken):
        Fernet(_pre_upgrade_at_rest_key(secret)).decrypt(new.encode())
    now_key = base64.urlsafe_b64encode(derive(secret, Purpose.AT_REST))
    assert Fernet(now_key).decrypt(new.encode()) == b"JBSWY3DPEHPK3PXP"
    assert Fernet(now_key).decrypt(services.secrets.rotate(old).encode()) == b"JBSWY3DPEHPK3PXP"
