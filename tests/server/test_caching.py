"""Caching headers (ETag, 304, immutable URLs with ?v=) and the fast path: the second request for a
tile is answered straight from the connection with the same bytes and the same headers."""

from __future__ import annotations

import asyncio

from exact_lab.slides import open_slide

from .conftest import CMU

SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options")


def tile_url(path, level=12, col=2, row=3, fmt="jpeg", query=""):
    return f"exact-lab/dz/{path.name}_files/{level}/{col}_{row}.{fmt}" + (f"?{query}" if query else "")


async def test_etag_and_not_modified(root_slides, raw_get):
    path = root_slides(CMU)
    for url in [tile_url(path), f"exact-lab/dz/{path.name}.dzi", f"exact-lab/thumbnail/{path.name}",
                f"exact-lab/associated/label/{path.name}"]:
        first = await raw_get(url)
        tag = first.headers["ETag"]
        assert first.code == 200 and tag.startswith('"') and tag.endswith('"')
        assert first.headers["Cache-Control"] == "private, no-cache", "no ?v=: revalidate"
        for header in [tag, f"W/{tag}", f'"other", {tag}', "*"]:
            again = await raw_get(url, headers={"If-None-Match": header})
            assert again.code == 304 and not again.body, (url, header)
            assert again.headers["ETag"] == tag
        changed = await raw_get(url, headers={"If-None-Match": '"something-else"'})
        assert changed.code == 200 and changed.body == first.body


async def test_immutable_urls_name_the_content(root_slides, raw_get):
    path = root_slides(CMU)
    version = open_slide(path).content_hash
    immutable = await raw_get(tile_url(path, query=f"v={version}"))
    assert immutable.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    stale = await raw_get(tile_url(path, query="v=0123456789abcdef0000"))
    assert stale.code == 200 and stale.headers["Cache-Control"] == "private, no-cache"
    dzi = await raw_get(f"exact-lab/dz/{path.name}.dzi?v={version}")
    assert dzi.headers["Cache-Control"].endswith("immutable")
    # tiles of different slides, levels or formats never share an ETag
    tags = {(await raw_get(tile_url(path, level=lv, col=0, row=0, fmt=f))).headers["ETag"]
            for lv in (10, 11, 12) for f in ("jpeg", "png")}
    assert len(tags) == 6


async def test_fast_path_answers_like_the_handler(root_slides, raw_get, jp_web_app, monkeypatch):
    from exact_lab.server.handlers import TileHandler

    handled = []
    original = TileHandler.get
    monkeypatch.setattr(TileHandler, "get", lambda self, *a: handled.append(a) or original(self, *a))
    path = root_slides(CMU)
    version = open_slide(path).content_hash
    engine = jp_web_app.settings["exact_lab_engine"]
    url = tile_url(path, col=5, row=6, query=f"v={version}")
    first = await raw_get(url)  # full Jupyter handler: checks credentials and path, remembers them
    assert len(handled) == 1
    hits = engine.cache.hits
    second = await raw_get(url)  # straight from the connection
    assert len(handled) == 1, "not through the handler"
    assert engine.cache.hits == hits + 1
    assert second.code == 200 and second.body == first.body
    for header in ("Content-Type", "ETag", "Cache-Control", "Content-Length", *SECURITY_HEADERS):
        assert second.headers.get(header) == first.headers.get(header), header
    assert "Set-Cookie" not in second.headers
    # a tile not decoded yet goes through the fast path too, decoded on the pool
    cold = await raw_get(tile_url(path, col=7, row=7, fmt="png"))
    assert cold.code == 200 and cold.body == open_slide(path).tile(12, 7, 7, format="png")
    assert len(handled) == 1
    not_modified = await raw_get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert not_modified.code == 304


async def test_fast_path_under_concurrent_requests(root_slides, raw_get):
    path = root_slides(CMU)
    slide = open_slide(path)
    await raw_get(tile_url(path, col=0, row=0))
    cols, rows = slide.deepzoom().tile_counts(12)
    coords = [(c, r) for c in range(cols) for r in range(rows)]
    responses = await asyncio.gather(*(raw_get(tile_url(path, col=c, row=r, fmt="png")) for c, r in coords))
    for (c, r), response in zip(coords, responses):
        assert response.code == 200 and response.body == slide.tile(12, c, r, format="png"), (c, r)
