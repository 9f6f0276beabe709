import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { ClassColors, maskTypes, parseColor } from "../src/masks/colors";
import { EditHistory } from "../src/masks/history";
import { paintPolygon, paintStroke } from "../src/masks/raster";
import { levelFor, topLevel } from "../src/masks/tiles";
import type { TypeMeta } from "../src/protocol";

// Made by the kernel's exact_lab.masks.tiles.stroke_mask for three strokes (several segments, one
// point, a zero-length segment): rows of 0/1 over the stroke's box. To regenerate:
//   python -c "from exact_lab.masks.tiles import stroke_mask; ..." (see the commit adding this file)
const fixture = JSON.parse(readFileSync(new URL("../../test/fixtures/stroke-mask.json", import.meta.url), "utf8"));

test("a stroke paints exactly the pixels the kernel's rule stores", () => {
  assert.equal(fixture.cases.length, 3);
  for (const c of fixture.cases) {
    const data = new Uint8Array(c.width * c.height);
    paintStroke({ data, width: c.width, height: c.height, x0: c.x0, y0: c.y0, scale: 1 }, c.points, c.radius, 7);
    const rows: string[] = [];
    for (let j = 0; j < c.height; j++) rows.push(Array.from(data.subarray(j * c.width, (j + 1) * c.width), (v) => (v === 7 ? "1" : "0")).join(""));
    assert.deepEqual(rows, c.rows, `stroke ${JSON.stringify(c.points)} r=${c.radius}`);
  }
});

// Made by the kernel's exact_lab.masks.tiles.polygon_mask for four outlines (edges through pixel
// centres, a bow tie, vertices on centre rows, one smaller than a pixel). To regenerate:
//   for each ring: (x0, y0), m = polygon_mask([ring]); rows = ["".join("01"[b] for b in r) for r in m]
const polygons = JSON.parse(readFileSync(new URL("../../test/fixtures/polygon-mask.json", import.meta.url), "utf8"));

test("a filled outline paints exactly the pixels the kernel's rule stores", () => {
  assert.equal(polygons.cases.length, 4);
  for (const c of polygons.cases) {
    const data = new Uint8Array(c.width * c.height);
    paintPolygon({ data, width: c.width, height: c.height, x0: c.x0, y0: c.y0, scale: 1 }, c.ring, 4);
    const rows: string[] = [];
    for (let j = 0; j < c.height; j++) rows.push(Array.from(data.subarray(j * c.width, (j + 1) * c.width), (v) => (v === 4 ? "1" : "0")).join(""));
    assert.deepEqual(rows, c.rows, `outline ${JSON.stringify(c.ring)}`);
  }
});

test("a filled outline is clipped to the tile, reports its box, and leaves other pixels alone", () => {
  const data = new Uint8Array(10 * 10).fill(9);
  // a square from level-0 (95, 95) to (103, 103) over a tile whose origin is (100, 100)
  const dirty = paintPolygon({ data, width: 10, height: 10, x0: 100, y0: 100, scale: 1 }, [95, 95, 103, 95, 103, 103, 95, 103], 2);
  assert.deepEqual(dirty, [0, 0, 3, 3]);
  const painted = [...data.keys()].filter((k) => data[k] === 2).map((k) => [k % 10, Math.floor(k / 10)]);
  assert.deepEqual(painted, [[0, 0], [1, 0], [2, 0], [0, 1], [1, 1], [2, 1], [0, 2], [1, 2], [2, 2]]);
  assert.equal(data.filter((v) => v === 9).length, 91);
  // level 1: a value covers 2 x 2 level-0 pixels and is painted when its level-0 centre is inside
  const coarse = new Uint8Array(4 * 4);
  paintPolygon({ data: coarse, width: 4, height: 4, x0: 0, y0: 0, scale: 2 }, [0, 0, 3.5, 0, 3.5, 3.5, 0, 3.5], 1);
  assert.deepEqual([...coarse.keys()].filter((k) => coarse[k]), [0, 1, 4, 5]);
  assert.equal(paintPolygon({ data, width: 10, height: 10, x0: 0, y0: 0, scale: 1 }, [50, 50, 60, 50], 2), null);
});

test("a stroke is clipped to the tile and reports the box it changed", () => {
  const data = new Uint8Array(16 * 16);
  // a disc of radius 3 centred on the tile's corner (level-0 (100, 100), tile origin (100, 100))
  const dirty = paintStroke({ data, width: 16, height: 16, x0: 100, y0: 100, scale: 1 }, [100, 100], 3, 2);
  assert.deepEqual(dirty, [0, 0, 4, 4]);
  // centres (100.5 + i, 100.5 + j) within 3 of the corner: i, j in 0..2 with (i+.5)^2+(j+.5)^2 <= 9,
  // all nine but (2, 2) (12.5 > 9)
  const painted = [...data.keys()].filter((k) => data[k]).map((k) => [k % 16, Math.floor(k / 16)]);
  assert.deepEqual(painted, [[0, 0], [1, 0], [2, 0], [0, 1], [1, 1], [2, 1], [0, 2], [1, 2]]);
  assert.equal(paintStroke({ data, width: 16, height: 16, x0: 0, y0: 0, scale: 1 }, [500, 500], 3, 2), null);
});

test("at a downsampled level a pixel is painted when its level-0 centre is inside the radius", () => {
  const data = new Uint8Array(8 * 8);
  // level 2: each value covers 4 x 4 level-0 pixels, centres at 2, 6, 10, ...
  paintStroke({ data, width: 8, height: 8, x0: 0, y0: 0, scale: 4 }, [6, 6], 4.1, 1);
  const painted = [...data.keys()].filter((i) => data[i]).map((i) => [i % 8, Math.floor(i / 8)]);
  assert.deepEqual(painted, [[1, 0], [0, 1], [1, 1], [2, 1], [1, 2]]);
});

const types = [
  { index: 0, type_id: 3, name: "tumour", vector_type: "mask", color: "#ff8000", default_width: null, default_height: null, key: "1", layer: "t:3" },
  { index: 1, type_id: 5, name: "stroma", vector_type: "mask", color: "#0f0", default_width: null, default_height: null, key: "2", layer: "t:5" },
  { index: 2, type_id: 9, name: "cell", vector_type: "polygon", color: "#0000ff", default_width: null, default_height: null, key: "3", layer: "t:9" },
] as TypeMeta[];

test("mask classes get their type's colour, unlabelled is transparent, an unknown class grey", () => {
  assert.deepEqual(parseColor("#ff8000"), [255, 128, 0]);
  assert.deepEqual(parseColor("#0f0"), [0, 255, 0]);
  assert.deepEqual(maskTypes(types).map((t) => t.name), ["tumour", "stroma"]);
  const colors = new ClassColors(types);
  const labels = Uint8Array.from([0, 3, 5, 4, 9]);
  const out = new Uint8ClampedArray(labels.length * 4);
  colors.paint(labels, labels.length, out, [0, 0, labels.length, 1]);
  assert.deepEqual([...out], [0, 0, 0, 0, 255, 128, 0, 255, 0, 255, 0, 255, 128, 128, 128, 255, 128, 128, 128, 255]);
});

test("the drawn level keeps at least one label per screen pixel, within the pyramid", () => {
  assert.equal(topLevel(512, 300), 0);
  assert.equal(topLevel(100000, 80000), 8);
  assert.equal(levelFor(1, 8), 0);
  assert.equal(levelFor(2, 8), 0);
  assert.equal(levelFor(0.5, 8), 1);
  assert.equal(levelFor(0.3, 8), 1);
  assert.equal(levelFor(0.001, 8), 8);
});

test("undo reaches the history of the last edit, redo the last undone", () => {
  const h = new EditHistory();
  h.record("vector");
  h.record("mask");
  assert.equal(h.undo(), "mask");
  assert.equal(h.undo(), "vector");
  assert.equal(h.redo(), "vector");
  h.record("mask"); // a new edit: the undone mask edit cannot come back
  assert.equal(h.canRedo, false);
  h.clearMasks();
  assert.equal(h.undo(), "vector");
  assert.equal(h.canUndo, false);
});
