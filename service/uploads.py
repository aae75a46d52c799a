"""Images that clients send (`POST /translate`): PNG or JPEG of any reasonable size, read as the model reads.

Three steps, each its own function (docs/API.md, "POST /translate"):
1. `open_image`: the format from the file's first bytes (PNG or JPEG; any other is refused by name), then the size
   and the pixel mode from its header, all before a pixel is decoded, so a huge or odd image costs nothing; then
   transparency: an image with a pixel less than opaque is refused, since grey drops the alpha and what lies under
   it is unknown (a drawing app's black stroke on a transparent ground would read as all black).
2. `to_grey`: 8-bit grey, Pillow's `convert("L")`.
3. `fit`: the datasets' polarity (light strokes on a dark ground: an image whose border is mostly light, as a
   scan or a drawing-app export is, gets inverted), then the model's size (a non-square image is first padded to
   a square with its ground, so a digit keeps its shape). An image of the model's size keeps its pixels.
A 3-channel model reads colour instead (`read_rgb`), as training/folders.py decodes a colour image folder: alpha
composited on white (so an emoji's transparent ground is white, not refused), scaled to fit the model's size
with its aspect kept (Lanczos), centred on white; no polarity. An image of the model's size keeps its pixels.
Every refusal is an InputError (422) naming the field and what was wrong: format, size or channels.
`form_fields` reads the parts of a multipart/form-data upload (`POST /encode`).
"""

from __future__ import annotations

import io
from email.parser import BytesParser
from email.policy import HTTP
from typing import cast

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from service.errors import InputError

ACCEPTED = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG"}
REFUSED = {b"GIF8": "GIF", b"BM": "BMP", b"RIFF": "RIFF (WebP?)", b"II*\x00": "TIFF", b"MM\x00*": "TIFF"}
WHITE = (255, 255, 255, 255)  # what a colour model reads under transparent pixels, and around a non-square image
MIN_SIDE, MAX_SIDE = 8, 4096  # pixels: smaller holds no digit; larger is no sketch or scan of one
MODES = {"1", "L", "LA", "P", "PA", "RGB", "RGBA"}  # 8-bit grey or colour, with or without alpha
MODE_PROBLEMS = {
    "I;16": "16-bit grey; send 8 bits per channel",
    "I;16B": "16-bit grey; send 8 bits per channel",
    "I": "32-bit integer grey; send 8 bits per channel",
    "F": "32-bit float grey; send 8 bits per channel",
    "CMYK": "CMYK, 4 ink channels; send grey or RGB",
}


def _format(data: bytes, field: str) -> str:
    for magic, name in ACCEPTED.items():
        if data.startswith(magic):
            return name
    found = next((name for magic, name in REFUSED.items() if data.startswith(magic)), None)
    what = f"a {found} file" if found else "not an image file this service reads"
    raise InputError(field, f"{what}, not a PNG or JPEG: send a PNG or a JPEG")


def open_image(data: bytes, field: str = "image", alpha: bool = False) -> Image.Image:
    """A decoded PNG or JPEG of MIN_SIDE..MAX_SIDE pixels a side in an 8-bit mode; InputError says what is wrong.
    Transparent pixels are refused unless `alpha` (the colour reading composites them on white)."""
    fmt = _format(data, field)
    too_large = f"the image is larger than {MAX_SIDE}×{MAX_SIDE} pixels; send at most {MAX_SIDE} a side"
    try:
        img = Image.open(io.BytesIO(data), formats=[fmt])
        w, h = img.size
        if max(w, h) > MAX_SIDE:
            raise InputError(field, f"the image is {w}×{h}; send at most {MAX_SIDE}×{MAX_SIDE} pixels")
        if min(w, h) < MIN_SIDE:
            raise InputError(field, f"the image is {w}×{h}; send at least {MIN_SIDE}×{MIN_SIDE} pixels")
        if img.mode not in MODES:
            problem = MODE_PROBLEMS.get(img.mode, f"pixel mode {img.mode!r}; send 8-bit grey or RGB")
            raise InputError(field, f"the {fmt} is {problem}")
        img.load()
        if not alpha and transparent(img):
            raise InputError(
                field,
                f"the {fmt} has transparent pixels, whose colour the model cannot know: flatten it onto its "
                "background first (light strokes on black, or dark strokes on white) and send it again",
            )
    except Image.DecompressionBombError:  # Pillow refuses such a header in open(), before the size check above
        raise InputError(field, too_large) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise InputError(field, f"the {fmt} cannot be decoded (truncated or corrupt)") from None
    return img


def transparent(img: Image.Image) -> bool:
    """Whether a pixel is less than opaque: through an alpha channel (LA, PA, RGBA) or a PNG's tRNS colour."""
    if img.mode not in ("LA", "PA", "RGBA") and "transparency" not in img.info:
        return False
    low, _ = cast(tuple[int, int], img.convert("RGBA").getchannel("A").getextrema())  # one band: (min, max)
    return low < 255


def to_grey(img: Image.Image) -> Image.Image:
    """8-bit grey: Pillow's `convert("L")` (ITU-R 601-2 luma for colour)."""
    return img.convert("L")


def fit(grey: Image.Image, height: int, width: int) -> np.ndarray:
    """Grey image → uint8 [height, width] light on dark, as the datasets are (see the module docstring)."""
    pixels = np.asarray(grey, dtype=np.uint8)
    border = np.concatenate([pixels[0], pixels[-1], pixels[1:-1, 0], pixels[1:-1, -1]])
    if np.median(border) > 127:
        pixels, border = 255 - pixels, 255 - border
    h, w = pixels.shape
    if (h, w) == (height, width):
        return pixels
    side = max(h, w)
    square = np.full((side, side), np.uint8(np.median(border)), dtype=np.uint8)
    top, left = (side - h) // 2, (side - w) // 2
    square[top : top + h, left : left + w] = pixels
    return np.asarray(Image.fromarray(square).resize((width, height), Image.Resampling.BILINEAR))


def read_image(data: bytes, height: int, width: int, field: str = "image") -> np.ndarray:
    """PNG or JPEG bytes → uint8 [height, width] as the model reads them; InputError (422) naming `field` else."""
    return fit(to_grey(open_image(data, field)), height, width)


def to_rgb(img: Image.Image) -> Image.Image:
    """8-bit RGB, upright (a JPEG's EXIF orientation applied), every transparent pixel composited on white."""
    rgba = ImageOps.exif_transpose(img).convert("RGBA")
    return Image.alpha_composite(Image.new("RGBA", rgba.size, WHITE), rgba).convert("RGB")


def fit_rgb(rgb: Image.Image, height: int, width: int) -> np.ndarray:
    """RGB image → uint8 [height, width, 3]: scaled to fit with its aspect kept, centred on white."""
    if rgb.size == (width, height):
        return np.asarray(rgb, dtype=np.uint8)
    scale = min(width / rgb.width, height / rgb.height)
    w, h = max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale))
    canvas = Image.new("RGB", (width, height), WHITE[:3])
    canvas.paste(rgb.resize((w, h), Image.Resampling.LANCZOS), ((width - w) // 2, (height - h) // 2))
    return np.asarray(canvas, dtype=np.uint8)


def read_rgb(data: bytes, height: int, width: int, field: str = "image") -> np.ndarray:
    """PNG or JPEG bytes → uint8 [height, width, 3] as a colour model reads them; InputError (422) naming `field`."""
    return fit_rgb(to_rgb(open_image(data, field, alpha=True)), height, width)


def form_fields(body: bytes, content_type: str) -> dict[str, bytes]:
    """A multipart/form-data body → its parts by name (the standard library's MIME parser, so no extra
    dependency); InputError naming `body` when it is not one."""
    header = b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n"
    message = BytesParser(policy=HTTP).parsebytes(header + body)
    if not message.is_multipart() or message.defects:
        raise InputError("body", "not a multipart/form-data body (a boundary in Content-Type, then its parts)")
    fields: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or not name:
            raise InputError("body", "every form part needs a Content-Disposition name")
        payload = part.get_payload(decode=True)
        fields[name] = payload if isinstance(payload, bytes) else b""
    return fields
