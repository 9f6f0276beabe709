"""Polygon vertices as int16 steps: the kernel's encoder (exact_lab/widgets/steps.py) and the
browser's decoder (js/src/data/steps.ts) agree bit for bit, a decoded vertex stays within 1/2048 px
and a float32 rounding of the kernel's, and a map's round trip is within the sync's tolerance."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import shapely

from exact_lab.analysis.sync import GEOMETRY_TOLERANCE
from exact_lab.widgets import encode
from exact_lab.widgets.steps import ESCAPE, STEP_SCALE, decode_rings, encode_rings

JS = Path(__file__).resolve().parents[2] / "js"


def cells(n, seed=0, extent=16384.0, radius=(5, 12)):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(15, extent - 15, (n, 2))
    return shapely.buffer(shapely.points(xy), rng.uniform(*radius, n), quad_segs=4)


def polygon_columns(geoms):
    [c] = encode.geometry_columns(np.asarray(geoms, dtype=object), "polygon")
    return c


def bound(xy):
    """How far a decoded vertex may be from the kernel's: half a grid step and a float32 rounding."""
    return 1 / (2 * STEP_SCALE) + np.spacing(np.abs(xy).astype(np.float32)).astype(np.float64)


def test_cells_decode_within_half_a_grid_step_and_take_half_the_bytes_of_float32():
    c = polygon_columns(cells(2000))
    starts, steps = encode_rings(c.coords, c.offsets)
    got = decode_rings(starts, steps, c.offsets)
    assert np.all(np.abs(got - c.coords) <= bound(c.coords))
    assert np.abs(got - c.coords).max() > 1e-4  # the vertices are off the grid: this is no exact copy
    assert len(starts) == len(c.offsets) - 1  # 5-12 px cells: one run per ring
    assert starts.nbytes + steps.nbytes < 0.54 * c.coords.astype(np.float32).nbytes


def test_errors_do_not_build_up_along_a_long_ring():
    """10,000 vertices of 0.3 px steps: rounding each step alone would drift by up to 5 px."""
    t = np.linspace(0, 2 * np.pi, 10_000, endpoint=False)
    ring = np.column_stack([5000.123 + 477.7 * np.cos(t), 3000.456 + 477.7 * np.sin(t)])
    offsets = np.array([0, len(ring)])
    starts, steps = encode_rings(ring, offsets)
    assert len(starts) == 1
    assert np.all(np.abs(decode_rings(starts, steps, offsets) - ring) <= bound(ring))


def test_long_edges_and_missing_values_start_a_run_of_their_own():
    ring = np.array([[10.0, 10.0], [10.0 + 32766 / STEP_SCALE, 10.0], [80.0, 10.0], [60.0, np.nan], [61.0, 11.0], [62.25, 11.5]])
    offsets = np.array([0, 3, 6])
    starts, steps = encode_rings(ring, offsets)
    # runs start with each ring (0, 3), after the 38 px edge (2: the 32 px edge before it still
    # fits int16) and after the missing value (4)
    np.testing.assert_array_equal(starts, np.float32(ring[[0, 2, 3, 4]]))
    assert steps.tolist() == [[32766, 0], [ESCAPE, 0], [ESCAPE, 0], [1.25 * STEP_SCALE, 0.5 * STEP_SCALE]]
    got = decode_rings(starts, steps, offsets)
    assert np.array_equal(np.isnan(got), np.isnan(ring))
    finite = ~np.isnan(ring)
    assert np.all(np.abs(got[finite] - ring[finite]) <= bound(ring[finite]))


def test_a_map_round_trip_stays_within_the_sync_tolerance():
    """Map pixels as the viewer sends them back after a retype (decoded from the steps), against
    the kernel's geometry, compared as the map sync compares them; up to 65,536 px, where float32
    alone is 0.004 px off."""
    geoms = np.concatenate([cells(3000, seed=1, extent=65536.0), cells(500, seed=2, radius=(30, 200))])
    c = polygon_columns(geoms)
    c = encode.reorder(c, encode.spatial_order(c.bounds))
    sent = c.rows  # the source row of each shape, in the order sent
    back = []
    for head, buffers in encode.chunk_payloads(c, id_start=0, chunk_size=1000):
        starts = np.frombuffer(buffers[0], np.float32).reshape(-1, 2)
        offsets = np.frombuffer(buffers[1], np.uint32)
        xy = decode_rings(starts, np.frombuffer(buffers[3], np.int16).reshape(-1, 2), offsets)
        g = np.frombuffer(buffers[2], np.uint32)
        for i in range(head["count"]):
            ring = xy[offsets[g[i]]:offsets[g[i] + 1]]
            back.append(encode.geometry_of("polygon", ring.ravel().tolist()))
    same = shapely.equals_exact(np.array(back, dtype=object), geoms[sent], tolerance=GEOMETRY_TOLERANCE)
    assert same.all(), f"{(~same).sum()} of {len(same)} shapes came back moved"
    # and the check can fail: a move of a fiftieth of a pixel is seen
    nudged = shapely.transform(np.array(back[:5], dtype=object), lambda xy: xy + 0.02)
    assert not shapely.equals_exact(nudged, geoms[sent[:5]], tolerance=GEOMETRY_TOLERANCE).any()


NODE_DECODE = """
import {{ readFileSync, writeFileSync }} from "node:fs";
import {{ decodeRings }} from {steps!r};
for (const dir of process.argv.slice(2)) {{
  const read = (name, T) => {{ const b = readFileSync(dir + "/" + name); return new T(b.buffer, b.byteOffset, b.byteLength / T.BYTES_PER_ELEMENT); }};
  const out = decodeRings(read("starts", Float32Array), read("steps", Int16Array), read("offsets", Uint32Array));
  writeFileSync(dir + "/decoded", new Uint8Array(out.buffer));
}}
"""


@pytest.mark.skipif(shutil.which("node") is None or not (JS / "node_modules" / "esbuild").exists(), reason="needs node and js/node_modules")
def test_the_browser_decodes_the_kernels_steps_to_the_same_float32_vertices(tmp_path):
    # one chunk of small cells (one run a ring), one of large shapes (edges over 32 px start runs)
    geoms = np.concatenate([cells(3000, seed=3, extent=60000.0), cells(200, seed=4, radius=(40, 300)),
                            [shapely.Polygon([(0, 0), (5000, 0), (5000.5, 4000.25), (3, 2)])]])
    c = polygon_columns(geoms)
    chunks = list(encode.chunk_payloads(c, id_start=0, chunk_size=3000))
    dirs = []
    for k, (_, buffers) in enumerate(chunks):
        dirs.append(tmp_path / f"chunk{k}")
        dirs[-1].mkdir()
        for name, b in zip(("starts", "offsets", "geoms", "steps"), buffers):
            (dirs[-1] / name).write_bytes(bytes(b))
    entry = tmp_path / "decode.mjs"
    entry.write_text(NODE_DECODE.format(steps=str(JS / "src" / "data" / "steps.ts")))
    bundle = tmp_path / "decode.bundle.mjs"
    subprocess.run([str(JS / "node_modules" / ".bin" / "esbuild"), str(entry), "--bundle", "--platform=node", "--format=esm",
                    f"--outfile={bundle}", "--log-level=warning"], check=True, timeout=60)
    subprocess.run(["node", str(bundle), *map(str, dirs)], check=True, timeout=60)
    runs = []
    for d, (head, buffers) in zip(dirs, chunks):
        starts = np.frombuffer(buffers[0], np.float32).reshape(-1, 2)
        offsets = np.frombuffer(buffers[1], np.uint32)
        runs.append(len(starts) - (len(offsets) - 1))
        browser = np.frombuffer((d / "decoded").read_bytes(), np.float32).reshape(-1, 2)
        kernel = decode_rings(starts, np.frombuffer(buffers[3], np.int16).reshape(-1, 2), offsets)
        assert browser.shape == kernel.shape
        differ = (browser.view(np.uint32) != kernel.view(np.uint32)).any(axis=1)
        assert not differ.any(), f"{d.name}: {differ.sum()} vertices differ, the first at {np.flatnonzero(differ)[:1]}"
        v0 = c.offsets[c.geom_offsets[head["id_start"]]]
        want = c.coords[v0:v0 + len(browser)]
        assert np.all(np.abs(browser - want) <= bound(want))
    assert runs[0] == 0 and runs[1] > 0  # the two ways of encoding were both decoded
