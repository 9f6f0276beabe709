"""Behind JupyterHub the server lives under /user/<name>/: routes and the URLs built for them
follow the server's base URL."""

from __future__ import annotations

import json

import pytest

from exact_lab.slides import open_slide, slide_urls

from .conftest import CMU, image


@pytest.fixture
def jp_base_url():
    return "/user/alice/"


async def test_routes_live_under_the_prefix(root_slides, raw_get, jp_root_dir, jp_serverapp):
    path = root_slides(CMU)
    assert jp_serverapp.base_url == "/user/alice/"
    urls = slide_urls(path, base_url=jp_serverapp.base_url, root_dir=jp_root_dir,
                      content_hash=open_slide(path).content_hash)
    assert urls["dzi"].startswith("/user/alice/exact-lab/dz/")
    dzi = await raw_get(urls["dzi"])
    assert dzi.code == 200 and b"Width=\"2220\"" in dzi.body
    for _attempt in range(2):  # the handler, then the fast path
        tile = await raw_get(urls["tiles"].format(level=12, col=1, row=2))
        assert tile.code == 200 and image(tile).shape == (256, 256, 3)
        assert tile.headers["Cache-Control"].endswith("immutable")
    info = await raw_get(urls["info"])
    assert json.loads(info.body)["width"] == 2220
    assert (await raw_get(urls["thumbnail"])).code == 200
    assert (await raw_get(urls["associated"].format(name="macro"))).code == 200
    # without the prefix there is nothing
    assert (await raw_get(urls["info"].removeprefix("/user/alice"))).code == 404
    # and the prefix does not open a way around authentication
    assert (await raw_get(urls["tiles"].format(level=12, col=1, row=2), auth=False)).code == 403
