"""Deep Zoom geometry against OpenSlide's generator, alias tokens for pseudonymised slides, route
URLs, and what ``info(public=True)`` leaves out."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exact_lab.slides import aliases, open_slide, slide_urls
from exact_lab.slides.deepzoom import DeepZoomLayout

from .slide_reference import OpenSlideReference, decode


class _FakeSlide:
    """The little DeepZoomGenerator asks of a slide: one level of the given size."""

    def __init__(self, width, height):
        self.level_count = 1
        self.level_dimensions = ((width, height),)
        self.level_downsamples = (1.0,)
        self.properties = {}
        self.dimensions = (width, height)

    def get_best_level_for_downsample(self, downsample):
        return 0


@settings(max_examples=150, deadline=None)
@given(width=st.integers(1, 200_000), height=st.integers(1, 200_000),
       tile=st.sampled_from([254, 256, 510, 3, 1]), overlap=st.sampled_from([0, 1, 2]), pick=st.randoms())
def test_layout_matches_deepzoomgenerator(width, height, tile, overlap, pick):
    from openslide.deepzoom import DeepZoomGenerator

    if overlap >= tile:
        with pytest.raises(ValueError):
            DeepZoomLayout(width, height, tile, overlap)
        return

    dz = DeepZoomGenerator(_FakeSlide(width, height), tile, overlap, limit_bounds=False)
    ours = DeepZoomLayout(width, height, tile, overlap)
    assert ours.level_count == dz.level_count
    assert list(ours.level_dimensions) == list(dz.level_dimensions)
    for level in {0, ours.level_count - 1, pick.randrange(ours.level_count)}:
        cols, rows = ours.tile_counts(level)
        assert (cols, rows) == dz.level_tiles[level]
        for col, row in {(0, 0), (cols - 1, rows - 1), (pick.randrange(cols), pick.randrange(rows))}:
            (location, _, _), size = dz._get_tile_info(level, (col, row))
            x, y, w, h = ours.tile_rect(level, col, row)
            scale = ours.downsample(level)
            assert (x * scale, y * scale) == location
            # When the last tile is narrower than the overlap, DeepZoomGenerator's overlap runs past
            # the level's edge; Deep Zoom clients (OpenSeadragon) clip tile bounds to the level.
            lw, lh = dz.level_dimensions[level]
            assert (w, h) == (min(size[0], lw - x), min(size[1], lh - y))
        with pytest.raises(IndexError):
            ours.tile_rect(level, cols, 0)


def test_dzi_descriptor(small_svs):
    import xml.etree.ElementTree as ET

    slide = open_slide(small_svs)
    root = ET.fromstring(slide.dzi(format="png", tile_size=510, overlap=2))
    ns = "{http://schemas.microsoft.com/deepzoom/2008}"
    assert root.tag == ns + "Image"
    assert (root.get("TileSize"), root.get("Overlap"), root.get("Format")) == ("510", "2", "png")
    size = root.find(ns + "Size")
    assert (int(size.get("Width")), int(size.get("Height"))) == slide.dimensions


def test_tile_size_and_overlap_are_configurable(small_svs):
    slide = open_slide(small_svs)
    layout = slide.deepzoom(510, 2)
    top = layout.level_count - 1
    assert layout.tile_rect(top, 1, 1) == (508, 508, 514, 514)
    tile = decode(slide.tile(top, 1, 1, format="png", tile_size=510, overlap=2))
    expected = OpenSlideReference(small_svs).region(0, 508, 508, 514, 514)
    assert (tile == expected).all()


@pytest.fixture
def registry(tmp_path, monkeypatch):
    path = tmp_path / "runtime" / "aliases.json"
    monkeypatch.setenv("EXACT_LAB_ALIASES", str(path))
    return path


def test_alias_register_and_resolve(registry, tmp_path):
    slide = tmp_path / "private name of patient.svs"
    slide.write_bytes(b"x")
    token = aliases.register(slide)
    assert token and "patient" not in token and "/" not in token
    assert aliases.register(str(slide)) == token, "the same path gets the same token"
    assert aliases.resolve(token) == slide.resolve()
    assert aliases.resolve("not-a-token") is None
    other = tmp_path / "other.svs"
    other.write_bytes(b"y")
    assert aliases.register(other) != token
    assert stat.S_IMODE(registry.stat().st_mode) == 0o600, "private paths are readable by this user only"
    assert json.loads(registry.read_text())[token] == str(slide.resolve())


def _register_many(registry, paths, queue):
    os.environ["EXACT_LAB_ALIASES"] = registry
    queue.put({p: aliases.register(p) for p in paths})


def test_alias_registration_from_threads_and_processes(registry, tmp_path):
    paths = [str(tmp_path / f"slide-{i}.svs") for i in range(20)]
    results: list[dict] = []

    def thread_worker():
        results.append({p: aliases.register(p) for p in paths})

    threads = [threading.Thread(target=thread_worker) for _ in range(4)]
    for t in threads:
        t.start()
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_register_many, args=(str(registry), paths[::-1], queue)) for _ in range(2)]
    for p in procs:
        p.start()
    for t in threads:
        t.join()
    results += [queue.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(30)
    assert all(r == results[0] for r in results), "every kernel sees one token per path"
    assert len(set(results[0].values())) == len(paths)
    for path, token in results[0].items():
        assert aliases.resolve(token) == Path(path).resolve()


def test_slide_urls_follow_the_base_url_and_quote_names(tmp_path):
    root = tmp_path / "root"
    path = root / "scans" / "test3-DAPI-2-(387) #1.ndpi"
    urls = slide_urls(path, base_url="/user/alice/", root_dir=root, content_hash="abc123")
    assert urls["dzi"] == "/user/alice/exact-lab/dz/scans/test3-DAPI-2-%28387%29%20%231.ndpi.dzi?v=abc123"
    assert urls["tiles"].startswith("/user/alice/exact-lab/dz/scans/test3-DAPI-2-%28387%29%20%231.ndpi_files/{level}/")
    assert urls["info"] == "/user/alice/exact-lab/info/scans/test3-DAPI-2-%28387%29%20%231.ndpi"
    token_urls = slide_urls(token="t0k/en", base_url="/user/bob")
    assert token_urls["info"] == "/user/bob/exact-lab/info/@t0k%2Fen"
    assert all("alice" not in u and "scans" not in u for u in token_urls.values())


def test_public_info_names_nothing(small_svs):
    slide = open_slide(small_svs)
    private, public = slide.info(), slide.info(public=True)
    assert private["path"] == str(slide.path) and private["properties"]
    text = json.dumps(public)
    assert small_svs.name not in text and str(small_svs.parent) not in text
    assert "properties" not in public and "path" not in public and "name" not in public
    assert "label" not in public["associated_images"] and "macro" not in public["associated_images"]
    assert public["width"] == private["width"] and public["content_hash"] == private["content_hash"]
