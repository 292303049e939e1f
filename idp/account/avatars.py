"""A person's picture: decoded, checked and re-encoded, so nothing of the upload but its pixels is
ever served (no metadata, no second format hidden in the file, no script)."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image
from PIL import ImageOps
from PIL import UnidentifiedImageError

from idp.errors import N_
from idp.errors import ValidationError

ACCEPTED = ("JPEG", "PNG", "WEBP")
MAX_BYTES = 5 * 1024 * 1024
# A decoded image costs width x height x 4 bytes: 40 million pixels is a 12 MP phone photo three
# times over, and stops a small file that would decode to gigabytes (a decompression bomb).
MAX_PIXELS = 40_000_000
# Below this a picture is accepted but looks blurred on the profile page (and on high-density
# screens): the person is told.
RECOMMENDED_SIDE = 210
# Stored sizes, twice the CSS size for high-density screens: the header shows 32 px, the page 128.
SMALL, LARGE = 64, 256
QUALITY = 88


@dataclass(frozen=True)
class Picture:
    small: bytes
    large: bytes
    # The shorter side of the upload, in pixels: below RECOMMENDED_SIDE the page warns.
    side: int

    @property
    def small_source(self) -> bool:
        return self.side < RECOMMENDED_SIDE


def _refuse(message: str) -> ValidationError:
    return ValidationError(message, field="picture")


def _open(data: bytes) -> Image.Image:
    if not data:
        raise _refuse(N_("Choose a picture to upload."))
    if len(data) > MAX_BYTES:
        raise _refuse(N_("The picture is too large: 5 MB at most."))
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb warning comes later than our pixel limit; never as an error page.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=ACCEPTED)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        raise _refuse(N_("This file is not a JPEG, PNG or WebP picture.")) from exc
    # The size comes from the header, before a single pixel is decoded.
    width, height = image.size
    if width * height > MAX_PIXELS or width < 1 or height < 1:
        raise _refuse(N_("The picture has too many pixels: 40 million at most."))
    try:
        image.seek(0)  # an animation: its first frame
        image.load()
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise _refuse(N_("This picture could not be read: it may be damaged.")) from exc
    return image


def _flatten(image: Image.Image) -> Image.Image:
    """RGB on white: JPEG has no transparency, and a transparent logo must not turn black."""
    image = ImageOps.exif_transpose(image)  # the camera's orientation, applied, then dropped
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return image.convert("RGB")


def _jpeg(image: Image.Image, side: int) -> bytes:
    square = ImageOps.fit(image, (side, side), Image.Resampling.LANCZOS, centering=(0.5, 0.5))
    out = io.BytesIO()
    # Pillow writes back a JPEG comment (and more) it finds in `info`: start from none, and pass
    # no exif or icc_profile, so the file carries pixels only.
    square.info.clear()
    square.save(out, "JPEG", quality=QUALITY, optimize=True, progressive=True)
    return out.getvalue()


def process(data: bytes) -> Picture:
    """Decode an upload (JPEG, PNG or WebP), crop it square around its centre, and re-encode it as
    JPEG at the stored sizes. Raises ValidationError (field `picture`) with the reason."""
    image = _flatten(_open(data))
    side = min(image.size)
    return Picture(small=_jpeg(image, SMALL), large=_jpeg(image, LARGE), side=side)
