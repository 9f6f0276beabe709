"""The extension's routes answer what the slide holds: tiles, descriptors, metadata, thumbnails and
associated images, for file names that need URL encoding too."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import numpy as np
import openslide

from exact_lab.slides import open_slide, slide_urls

from .conftest import CMU, NDPI, OME, image

DZ_NS = "{http://schemas.microsoft.com/deepzoom/2008}"


def top_level(path) -> int:
    return open_slide(path).deepzoom().level_count - 1


async def test_tile_route_serves_the_slides_pixels(root_slides, fetch):
    path = root_slides(CMU)
    slide = open_slide(path)
    layout = slide.deepzoom()
    top = layout.level_count - 1
    osr = openslide.OpenSlide(str(path))
    for col, row in [(0, 0), (1, 1), (8, 11)]:
        x, y, w, h = layout.tile_rect(top, col, row)
        expected = np.asarray(osr.read_region((x, y), 0, (w, h)).convert("RGB")).astype(np.int16)
        png = await fetch("exact-lab", "dz", f"{path.name}_files", str(top), f"{col}_{row}.png")
        assert png.code == 200 and png.headers["Content-Type"] == "image/png"
        assert np.array_equal(image(png), expected), (col, row)
        jpeg = await fetch("exact-lab", "dz", f"{path.name}_files", str(top), f"{col}_{row}.jpeg")
        assert jpeg.code == 200 and jpeg.headers["Content-Type"] == "image/jpeg"
        assert image(jpeg).shape == (h, w, 3) and np.abs(image(jpeg) - expected).mean() < 4
        webp = await fetch("exact-lab", "dz", f"{path.name}_files", str(top), f"{col}_{row}.webp")
        assert webp.headers["Content-Type"] == "image/webp" and image(webp).shape == (h, w, 3)


async def test_every_tile_of_a_level_fits_the_layout(root_slides, fetch):
    path = root_slides(CMU)
    layout = open_slide(path).deepzoom()
    level = layout.level_count - 2  # a zoomed-out level, built once into the cache
    cols, rows = layout.tile_counts(level)
    for col in range(cols):
        for row in range(rows):
            response = await fetch("exact-lab", "dz", f"{path.name}_files", str(level), f"{col}_{row}.jpeg")
            h, w = image(response).shape[:2]
            assert (w, h) == layout.tile_rect(level, col, row)[2:]
            assert w <= 254 + 2 and h <= 254 + 2


async def test_descriptor(root_slides, fetch):
    path = root_slides(CMU)
    response = await fetch("exact-lab", "dz", f"{path.name}.dzi")
    assert response.code == 200 and response.headers["Content-Type"].startswith("application/xml")
    root = ET.fromstring(response.body)
    assert root.tag == DZ_NS + "Image"
    assert (root.get("TileSize"), root.get("Overlap"), root.get("Format")) == ("254", "1", "jpeg")
    size = root.find(DZ_NS + "Size")
    assert (int(size.get("Width")), int(size.get("Height"))) == openslide.OpenSlide(str(path)).dimensions
    png = await fetch("exact-lab", "dz", f"{path.name}.dzi", params={"format": "png"})
    assert ET.fromstring(png.body).get("Format") == "png"


async def test_info(root_slides, fetch):
    path = root_slides(CMU)
    response = await fetch("exact-lab", "info", path.name)
    info = json.loads(response.body)
    osr = openslide.OpenSlide(str(path))
    assert (info["width"], info["height"]) == osr.dimensions
    assert info["level_count"] == osr.level_count
    assert info["mpp"] == float(osr.properties[openslide.PROPERTY_NAME_MPP_X])
    assert info["vendor"] == "aperio" and info["reader"] == "openslide"
    assert set(info["associated_images"]) == set(osr.associated_images)
    assert info["path"] == path.name, "the route, not the server's own path"
    assert str(path.parent) not in response.body.decode()


async def test_thumbnail(root_slides, fetch):
    path = root_slides(CMU)
    response = await fetch("exact-lab", "thumbnail", path.name, params={"size": 100})
    assert response.code == 200 and response.headers["Content-Type"] == "image/jpeg"
    thumb = image(response)
    width, height = open_slide(path).dimensions
    assert max(thumb.shape[:2]) == 100 and thumb.shape[1] == round(width * 100 / height)
    osr = openslide.OpenSlide(str(path))
    expected = np.asarray(osr.get_thumbnail((100, 100)).convert("RGB")).astype(float)
    assert np.abs(thumb.mean(axis=(0, 1)) - expected.mean(axis=(0, 1))).max() < 6


async def test_associated_images(root_slides, fetch):
    path = root_slides(CMU)
    osr = openslide.OpenSlide(str(path))
    for name in osr.associated_images:
        response = await fetch("exact-lab", "associated", name, path.name, params={"format": "png"})
        assert response.code == 200
        assert np.array_equal(image(response), np.asarray(osr.associated_images[name].convert("RGB")))
    missing = await fetch("exact-lab", "associated", "barcode", path.name)
    assert missing.code == 404 and "barcode" in json.loads(missing.body)["message"]


async def test_names_that_need_encoding(root_slides, raw_get, jp_root_dir, jp_base_url):
    path = root_slides(NDPI, as_name="scans [2024]/test3 DAPI (387) #1 %41.ndpi")
    urls = slide_urls(path, base_url=jp_base_url, root_dir=jp_root_dir)
    info = await raw_get(urls["info"])
    assert info.code == 200 and json.loads(info.body)["width"] == open_slide(path).dimensions[0]
    top = top_level(path)
    tile = await raw_get(urls["tiles"].format(level=top, col=3, row=4))
    assert tile.code == 200
    assert tile.body == open_slide(path).tile(top, 3, 4)
    dzi = await raw_get(urls["dzi"])
    assert dzi.code == 200


async def test_frames(root_slides, fetch):
    path = root_slides(OME)
    slide = open_slide(path)
    top = top_level(path)
    tiles = f"{path.name}_files"
    first = await fetch("exact-lab", "dz", tiles, str(top), "0_0.png")
    third = await fetch("exact-lab", "dz", tiles, str(top), "0_0.png", params={"frame": 3})
    assert third.body == slide.tile(top, 0, 0, frame=3, format="png") != first.body
    outside = await fetch("exact-lab", "dz", tiles, str(top), "0_0.png", params={"frame": slide.frames})
    assert outside.code == 404 and "frame" in json.loads(outside.body)["message"]
    garbled = await fetch("exact-lab", "dz", tiles, str(top), "0_0.png", params={"frame": "x"})
    assert garbled.code == 400
    info = json.loads((await fetch("exact-lab", "info", path.name)).body)
    assert info["frames"] == slide.frames == 35
