"""Tile images to bytes: JPEG, PNG or WebP, tuned for speed (tiles are small and many)."""

from __future__ import annotations

import io

from PIL import Image

MEDIA_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
FORMAT_ALIASES = {"jpg": "jpeg"}
DEFAULT_QUALITY = {"jpeg": 75, "webp": 80}
WHITE = (255, 255, 255)


def normalize_format(fmt: str) -> str:
    """'jpeg', 'png' or 'webp'; ValueError for anything else."""
    name = FORMAT_ALIASES.get(fmt.lower(), fmt.lower())
    if name not in MEDIA_TYPES:
        raise ValueError(f"tile format must be one of {', '.join(MEDIA_TYPES)}, not {fmt!r}")
    return name


def encode(image: Image.Image, fmt: str = "jpeg", quality: int | None = None, background=WHITE) -> bytes:
    """``image`` encoded; transparent pixels are put on ``background`` (except in PNG and WebP,
    which keep real transparency)."""
    fmt = normalize_format(fmt)
    buffer = io.BytesIO()
    if fmt == "jpeg":
        if image.mode == "RGBA" and _opaque(image):
            # Scanner regions are RGBA with nothing transparent: JPEG can take the bytes as RGBX,
            # which saves a conversion pass (a third of the encoding time of a tile).
            image = Image.frombuffer("RGBX", image.size, image.tobytes(), "raw", "RGBX", 0, 1)
        else:
            image = flatten(image, background)
        image.save(buffer, "JPEG", quality=quality or DEFAULT_QUALITY["jpeg"])
    elif fmt == "png":
        # Level 1: a few percent bigger than the default, several times faster.
        _drop_opaque_alpha(image).save(buffer, "PNG", compress_level=1)
    else:
        image = _drop_opaque_alpha(image)
        if image.mode in ("L", "LA", "P", "I", "F"):
            image = image.convert("RGBA" if image.mode == "LA" else "RGB")
        image.save(buffer, "WEBP", quality=quality or DEFAULT_QUALITY["webp"], method=0)
    return buffer.getvalue()


def flatten(image: Image.Image, background=WHITE) -> Image.Image:
    """Drop alpha: transparent pixels go on ``background`` (white, as slide viewers show the
    unscanned area, unless the slide says otherwise)."""
    if image.mode in ("RGB", "L"):
        return image
    if image.mode in ("RGBA", "LA"):
        base = "RGB" if image.mode == "RGBA" else "L"
        if _opaque(image):
            return image.convert(base)
        fill = tuple(background) if base == "RGB" else round(sum(background) / len(background))
        canvas = Image.new(base, image.size, fill)
        canvas.paste(image.convert(base), mask=image.getchannel("A"))
        return canvas
    return image.convert("RGB")


def _opaque(image: Image.Image) -> bool:
    return image.getchannel("A").getextrema()[0] == 255


def _drop_opaque_alpha(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA") and _opaque(image):
        return image.convert(image.mode[0] if image.mode == "LA" else "RGB")
    return image
