"""Unknown and damaged files get a clean JSON 4xx/5xx with a reason, never a hung request, a stack
trace or a dead server: the next good request is served."""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest
import tifffile

from .conftest import CMU, image


def body(response) -> dict:
    assert response.headers["Content-Type"].startswith("application/json")
    data = json.loads(response.body)
    assert data["status"] == response.code
    assert "Traceback" not in data["message"]
    return data


@pytest.fixture
def damaged(jp_root_dir, root_slides):
    """Damaged copies of the CMU slide in the server root: random bytes, cut short, and one whose
    later tiles are zeroed (it opens, then fails on those tiles)."""
    source = root_slides(CMU).read_bytes()
    (jp_root_dir / "noise.svs").write_bytes(np.random.default_rng(3).integers(0, 256, 100_000, dtype=np.uint8).tobytes())
    (jp_root_dir / "cut.svs").write_bytes(source[: len(source) // 3])
    zeroed = bytearray(source)
    with tifffile.TiffFile(root_slides(CMU)) as tif:
        page = tif.pages[0]
        for offset, count in list(zip(page.dataoffsets, page.databytecounts))[60:]:
            zeroed[offset:offset + count] = bytes(count)
    (jp_root_dir / "zeroed.svs").write_bytes(bytes(zeroed))
    return jp_root_dir


async def test_unsupported_files_answer_415_and_the_server_keeps_serving(damaged, fetch, jp_root_dir):
    for name in ["noise.svs", "cut.svs"]:
        for route in [("info", name), ("dz", f"{name}.dzi"), ("dz", f"{name}_files", "12", "0_0.jpeg"),
                      ("thumbnail", name)]:
            response = await fetch("exact-lab", *route)
            data = body(response)
            assert response.code == 415 and name in data["message"], route
            assert str(jp_root_dir) not in data["message"], "no server paths in messages"
        good = await fetch("exact-lab", "dz", "CMU-1-Small-Region.svs_files", "12", "0_0.jpeg")
        assert good.code == 200 and image(good).shape == (255, 255, 3)


async def test_a_tile_that_cannot_be_read_answers_500(damaged, fetch, jp_root_dir):
    ok = await fetch("exact-lab", "dz", "zeroed.svs_files", "12", "0_0.jpeg")
    assert ok.code == 200
    for _attempt in range(2):  # the second time through the fast path
        bad = await fetch("exact-lab", "dz", "zeroed.svs_files", "12", "8_11.jpeg")
        data = body(bad)
        assert bad.code == 500 and "zeroed.svs" in data["message"] and str(jp_root_dir) not in data["message"]
        assert "Cache-Control" not in bad.headers or "no-store" in bad.headers["Cache-Control"]
    good = await fetch("exact-lab", "dz", "CMU-1-Small-Region.svs_files", "12", "8_11.jpeg")
    assert good.code == 200
    # OpenSlide's errors are sticky per handle: intact tiles of the damaged slide stay readable
    intact = await fetch("exact-lab", "dz", "zeroed.svs_files", "12", "1_1.jpeg")
    original = await fetch("exact-lab", "dz", "CMU-1-Small-Region.svs_files", "12", "1_1.jpeg")
    assert intact.code == 200 and intact.body == original.body


async def test_many_bad_and_good_requests_at_once(damaged, fetch):
    requests = []
    for i in range(10):
        requests.append(fetch("exact-lab", "dz", "noise.svs_files", "12", f"{i}_0.jpeg"))
        requests.append(fetch("exact-lab", "dz", "zeroed.svs_files", "12", f"{i % 9}_11.jpeg"))
        requests.append(fetch("exact-lab", "dz", "CMU-1-Small-Region.svs_files", "12", f"{i % 9}_{i}.jpeg"))
    responses = await asyncio.wait_for(asyncio.gather(*requests), timeout=60)
    codes = [r.code for r in responses]
    assert codes[0::3] == [415] * 10 and codes[1::3] == [500] * 10 and codes[2::3] == [200] * 10


async def test_bad_arguments(root_slides, fetch):
    path = root_slides(CMU)
    tiles = f"{path.name}_files"
    cases = {
        ("dz", tiles, "12", "99_0.jpeg"): 404,
        ("dz", tiles, "13", "0_0.jpeg"): 404,
        ("dz", tiles, "12", "0_99.png"): 404,
        ("dz", f"{path.name}.dzi?format=gif"): 400,
        ("thumbnail", f"{path.name}?size=big"): 400,
        ("info", "nothing-here.svs"): 404,
        ("dz", "nothing-here.svs.dzi"): 404,
    }
    for parts, status in cases.items():
        *head, last = parts
        name, _, query = last.partition("?")
        params = dict([query.split("=")]) if query else None
        response = await fetch("exact-lab", *head, name, params=params)
        assert response.code == status, parts
        assert body(response)["message"]
    # an unknown tile format does not match the tile route at all
    assert (await fetch("exact-lab", "dz", tiles, "12", "0_0.gif")).code == 404


async def test_folders_and_other_files(jp_root_dir, fetch):
    (jp_root_dir / "notes").mkdir()
    (jp_root_dir / "notes" / "readme.txt").write_text("hello")
    folder = await fetch("exact-lab", "info", "notes")
    assert folder.code == 415 and "DICOM" in body(folder)["message"]
    text = await fetch("exact-lab", "info", "notes", "readme.txt")
    assert text.code == 415 and "readme.txt" in body(text)["message"]
