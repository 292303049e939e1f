"""The profile: names (the name shown follows them), the picture (decoded, re-encoded, served at a
versioned public address), reached from the header; bad input gets a message and changes nothing."""

from __future__ import annotations

import io
import os
import re

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage
from werkzeug.datastructures import MultiDict
from werkzeug.test import encode_multipart

from tests.conftest import csrf_of
from tests.conftest import events


@pytest.fixture
def person(client, auth, make_user):
    person = make_user(email="ada@example.com", display_name="", locale="en")
    auth.sign_in(person.email, person.password)
    return person


def image(size=(300, 300), fmt="PNG", colour=(200, 30, 30), mode="RGB", **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, fmt, **save)
    return out.getvalue()


def _token(client) -> str:
    return csrf_of(client.get("/profile").get_data(as_text=True))


def post_names(client, **fields):
    return client.post("/profile/names", data={"csrf_token": _token(client), **fields})


def upload(client, data: bytes, name="me.png"):
    # Encoded here, in memory: the test client would spool a large body to a file it never closes.
    boundary, body = encode_multipart(
        MultiDict({"csrf_token": _token(client), "picture": FileStorage(io.BytesIO(data), name)}))
    return client.post("/profile/picture", data=body, content_type=f"multipart/form-data; boundary={boundary}")


def picture_address(client) -> str:
    match = re.search(r'src="(/avatars/[^"]+/large\.jpg)"', client.get("/profile").get_data(as_text=True))
    assert match, "the profile shows no picture"
    return match.group(1)


def test_the_profile_needs_a_signed_in_person(client):
    response = client.get("/profile")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_the_header_leads_to_the_profile_with_the_initials(client, services, person):
    home = client.get("/").get_data(as_text=True)
    assert re.search(r'<a class="me" href="/profile">\s*<span class="initials" aria-hidden="true">A</span>', home)
    assert "Manage my profile" in home and 'href="/profile">Your profile</a>' in home


def test_names_make_the_name_shown_until_the_person_writes_another(client, services, person):
    response = post_names(client, given_name="  Ada ", family_name="Lovelace", display_name="ada")
    assert response.status_code == 302 and response.headers["Location"] == "/profile"
    user = services.users.get(person.id)
    # "ada" was the name shown made from the e-mail: it follows the new names.
    assert (user.given_name, user.family_name, user.display_name) == ("Ada", "Lovelace", "Ada Lovelace")
    assert "Hello, Ada Lovelace" in client.get("/").get_data(as_text=True)
    assert re.search(r'<span class="initials" aria-hidden="true">AL</span>', client.get("/").get_data(as_text=True))

    post_names(client, given_name="Ada", family_name="King", display_name="Ada Lovelace")
    assert services.users.get(person.id).display_name == "Ada King"
    post_names(client, given_name="Ada", family_name="King", display_name="Countess of Lovelace")
    post_names(client, given_name="Augusta Ada", family_name="King", display_name="Countess of Lovelace")
    assert services.users.get(person.id).display_name == "Countess of Lovelace"
    post_names(client, given_name="Augusta Ada", family_name="King", display_name="")
    assert services.users.get(person.id).display_name == "Augusta Ada King"
    assert len(events(services, "account:profile:updated")) == 5


@pytest.mark.parametrize(("fields", "message"), [
    ({"given_name": "A" * 101}, "The name is too long (100 characters at most)."),
    ({"family_name": "B" * 101}, "The name is too long (100 characters at most)."),
    ({"display_name": "C" * 201}, "The name is too long (200 characters at most)."),
    ({"given_name": "Ada\u202eecalevol"}, "The name contains characters that cannot be shown."),
    ({"display_name": "Ada\x07"}, "The name contains characters that cannot be shown."),
])
def test_bad_names_get_a_message_and_change_nothing(client, services, person, fields, message):
    before = services.users.get(person.id)
    response = post_names(client, **{"given_name": "Ada", "family_name": "", "display_name": "", **fields})
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert services.users.get(person.id) == before
    assert not events(services, "account:profile:updated")


def test_every_profile_form_refuses_a_missing_or_wrong_csrf_token(client, services, person):
    for path, data in [("/profile/names", {"given_name": "Eve"}), ("/profile/picture/remove", {}),
                       ("/profile/language", {"language": "fr"}), ("/profile/timezone", {"timezone": "Europe/Paris"})]:
        for token in ({}, {"csrf_token": "forged"}):
            assert client.post(path, data={**data, **token}).status_code == 400, path
    refused = client.post("/profile/picture", data={"csrf_token": "forged", "picture": (io.BytesIO(image()), "a.png")},
                          content_type="multipart/form-data")
    assert refused.status_code == 400
    user = services.users.get(person.id)
    assert (user.given_name, user.avatar_version, user.locale, user.timezone) == (None, None, "en", None)


def test_a_picture_is_reencoded_square_at_two_sizes_and_served_for_ever(client, services, person):
    response = upload(client, image((400, 300)))
    assert response.status_code == 302
    assert "Your picture is saved." in client.get("/profile").get_data(as_text=True)
    address = picture_address(client)
    served = client.get(address)
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert Image.open(io.BytesIO(served.data)).size == (256, 256)
    small = client.get(address.replace("large.jpg", "small.jpg"))
    assert Image.open(io.BytesIO(small.data)).size == (64, 64)
    # The header shows the small one.
    assert re.search(r'<a class="me" href="/profile">\s*<img src="/avatars/[^"]+/small\.jpg"',
                     client.get("/").get_data(as_text=True))
    assert client.get(address, headers={"If-None-Match": served.headers["ETag"]}).status_code == 304
    [event] = events(services, "account:avatar:changed")
    assert event["user_id"] == person.id


def test_a_new_picture_moves_the_address_and_the_old_one_redirects(client, services, person):
    upload(client, image(colour=(0, 0, 255)))
    first = picture_address(client)
    upload(client, image(colour=(0, 255, 0)))
    second = picture_address(client)
    assert first != second
    moved = client.get(first)
    assert moved.status_code == 302 and moved.headers["Location"].endswith(second)
    assert moved.headers["Cache-Control"] == "no-cache"
    pixel = Image.open(io.BytesIO(client.get(second).data)).convert("RGB").getpixel((128, 128))
    assert pixel[1] > 200 and pixel[2] < 60


def test_nothing_but_pixels_survives_the_upload(client, person):
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {2: (46.0, 31.0, 0.0)}  # GPS latitude
    upload(client, image((500, 500), "JPEG", exif=exif.tobytes(), comment=b"private note"))
    served = client.get(picture_address(client)).data
    assert b"SecretCam" not in served and b"private note" not in served and b"Exif" not in served
    assert not Image.open(io.BytesIO(served)).getexif()


def test_a_transparent_picture_is_put_on_white(client, person):
    upload(client, image((300, 300), "PNG", colour=(0, 0, 0, 0), mode="RGBA"))
    served = Image.open(io.BytesIO(client.get(picture_address(client)).data)).convert("RGB")
    assert min(served.getpixel((128, 128))) > 240


def test_a_small_picture_is_kept_with_a_warning(client, services, person):
    upload(client, image((120, 160), "WEBP"))
    page = client.get("/profile").get_data(as_text=True)
    assert "smaller than 210 × 210 pixels" in page
    assert services.users.get(person.id).avatar_version is not None


def test_a_picture_larger_than_a_form_may_be_is_accepted(client, services, person):
    # Noise does not compress: about 2 MB, over the 1 MB every other form is held to.
    noise = Image.frombytes("RGB", (820, 820), os.urandom(820 * 820 * 3))
    out = io.BytesIO()
    noise.save(out, "PNG")
    assert 1024 * 1024 < len(out.getvalue()) < 5 * 1024 * 1024
    assert upload(client, out.getvalue()).status_code == 302
    assert services.users.get(person.id).avatar_version is not None


def _bomb() -> bytes:
    out = io.BytesIO()
    Image.new("1", (10000, 10000)).save(out, "PNG")  # 100 million pixels in a few kilobytes
    return out.getvalue()


@pytest.mark.parametrize(("data", "message"), [
    (b"", "Choose a picture to upload."),
    (b"#!/bin/sh\necho not a picture\n", "This file is not a JPEG, PNG or WebP picture."),
    (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
     "This file is not a JPEG, PNG or WebP picture."),
    (image(fmt="GIF"), "This file is not a JPEG, PNG or WebP picture."),
    (image(fmt="PNG")[:200], "This picture could not be read: it may be damaged."),
    (b"\x89PNG" + b"\0" * (5 * 1024 * 1024), "The picture is too large: 5 MB at most."),
    (_bomb(), "The picture has too many pixels: 40 million at most."),
])
def test_what_is_not_a_usable_picture_gets_its_reason(client, services, person, data, message):
    response = upload(client, data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert services.users.get(person.id).avatar_version is None
    assert not events(services, "account:avatar:changed")


def test_an_upload_past_the_bound_is_refused_with_a_page(client, services, person):
    response = upload(client, b"\0" * (6 * 1024 * 1024))
    assert response.status_code == 413
    assert services.users.get(person.id).avatar_version is None


def test_removing_the_picture_brings_back_the_initials(client, services, person):
    upload(client, image())
    address = picture_address(client)
    response = client.post("/profile/picture/remove", data={"csrf_token": _token(client)})
    assert response.status_code == 302
    page = client.get("/profile").get_data(as_text=True)
    assert "Your picture is removed" in page and 'class="initials initials-large"' in page
    assert client.get(address).status_code == 404
    assert services.users.get(person.id).avatar_version is None
    assert len(events(services, "account:avatar:removed")) == 1


@pytest.mark.parametrize("path", ["/avatars/no-such-subject/1/large.jpg", "/avatars/{subject}/1/huge.jpg",
                                  "/avatars/{subject}/x/large.jpg"])
def test_an_address_that_leads_to_no_picture_is_a_404(client, services, person, path):
    upload(client, image())
    subject = services.users.get(person.id).subject
    assert client.get(path.format(subject=subject)).status_code == 404
