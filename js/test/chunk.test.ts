import assert from "node:assert/strict";
import { test } from "node:test";
import { Chunk, SLICE, SLICE_VERTICES } from "../src/data/chunk";
import { boxChunk, pathChunk, pointChunk, polygonChunk, views } from "./fakes";

test("a box chunk gives each shape its bounds and its id", () => {
  const [h, b] = boxChunk("t:1", 100, [[0, 0, 10, 5], [20, 20, 30, 40]]);
  const c = new Chunk(h, views(b));
  assert.equal(c.count, 2);
  assert.deepEqual(c.shape(1), { id: 101, layer: "t:1", kind: "box", coords: [20, 20, 30, 40] });
  assert.deepEqual(Array.from(c.bounds), [0, 0, 10, 5, 20, 20, 30, 40]);
  assert.equal(c.has(101), true);
  assert.equal(c.has(102), false);
});

test("points get a zero-size bounding box", () => {
  const [h, b] = pointChunk("u:p", 0, [[5, 6], [7, 8]]);
  const c = new Chunk(h, views(b));
  assert.deepEqual(c.shape(0), { id: 0, layer: "u:p", kind: "point", coords: [5, 6] });
  assert.deepEqual(Array.from(c.bounds), [5, 6, 5, 6, 7, 8, 7, 8]);
});

test("paths are cut at their vertex offsets", () => {
  const [h, b] = pathChunk("t:2", 0, [[0, 0, 10, 10], [1, 2, 3, 4, 5, 0]]);
  const c = new Chunk(h, views(b));
  assert.deepEqual(c.shape(1).coords, [1, 2, 3, 4, 5, 0]);
  assert.deepEqual(c.vertexRange(1), [2, 5]);
  assert.deepEqual(Array.from(c.bounds.subarray(4, 8)), [1, 0, 5, 4]);
});

test("a polygon with a hole keeps its rings", () => {
  const outer = [0, 0, 10, 0, 10, 10, 0, 10], inner = [4, 4, 6, 4, 6, 6];
  const [h, b] = polygonChunk("t:3", 7, [[[1, 1, 2, 1, 2, 2]], [outer, inner]]);
  const c = new Chunk(h, views(b));
  assert.deepEqual(c.shape(0), { id: 7, layer: "t:3", kind: "polygon", coords: [1, 1, 2, 1, 2, 2], rings: undefined });
  assert.deepEqual(c.shape(1), { id: 8, layer: "t:3", kind: "polygon", coords: [...outer, ...inner], rings: [0, 4] });
});

test("buffers not aligned to their element size are copied, not misread", () => {
  const [h, b] = boxChunk("t:1", 0, [[1.5, 2.5, 3.5, 4.5]]);
  const bytes = new Uint8Array(18);
  bytes.set(new Uint8Array(b[0]), 2);
  const c = new Chunk(h, [new DataView(bytes.buffer, 2, 16)]);
  assert.deepEqual(c.shape(0).coords, [1.5, 2.5, 3.5, 4.5]);
});

test("slices hold at most SLICE shapes, or SLICE_VERTICES vertices of outlines", () => {
  const n = SLICE * 2 + 10;
  const [hb, bb] = boxChunk("t:1", 0, Array.from({ length: n }, (_, i) => [i, 0, i + 1, 1]));
  const boxes = new Chunk(hb, views(bb));
  assert.deepEqual(boxes.slices.map((s) => s.end - s.start), [SLICE, SLICE, 10]);
  assert.deepEqual(boxes.slices[1].bbox, [SLICE, 0, 2 * SLICE, 1]);
  // outlines of 17 vertices: a slice ends before SLICE_VERTICES
  const ring = (x: number) => Array.from({ length: 34 }, (_, k) => (k % 2 ? Math.sin(k) : x + Math.cos(k)));
  const [hp, bp] = polygonChunk("t:2", 0, Array.from({ length: 1000 }, (_, i) => [ring(i * 3)]));
  const outlines = new Chunk(hp, views(bp));
  const perSlice = Math.floor(SLICE_VERTICES / 17);
  assert.equal(outlines.slices[0].end, perSlice);
  assert.equal(outlines.slices.length, Math.ceil(1000 / perSlice));
});

test("hiding a shape counts it once and bumps the version", () => {
  const [h, b] = boxChunk("t:1", 0, [[0, 0, 1, 1], [2, 2, 3, 3]]);
  const c = new Chunk(h, views(b));
  c.setHidden(1, true);
  c.setHidden(1, true);
  assert.equal(c.hiddenCount, 1);
  assert.equal(c.isHidden(1), true);
  const v = c.version;
  c.setHidden(1, false);
  assert.equal(c.hiddenCount, 0);
  assert.equal(c.version, v + 1);
});

test("the typical size is the median of the shapes' larger sides", () => {
  const [h, b] = boxChunk("t:1", 0, [[0, 0, 2, 1], [0, 0, 8, 9], [0, 0, 4, 4]]);
  assert.equal(new Chunk(h, views(b)).typicalSize, 4);
});

test("polygon vertices come from run starts and int16 steps on a 1/1024 px grid", () => {
  // a cell off the grid (errors do not build up along the ring), then a ring with a 40 px edge (a
  // step too long for int16 starts a new run) and a vertex at a large coordinate
  const cell = [1000.3, 2000.7, 1004.1, 2001.9, 1006.55, 2005.05, 1003.2, 2008.8, 999.9, 2004.4];
  const wide = [10, 10, 50, 10, 50.5, 60, 30000.25, 60];
  const [h, b] = polygonChunk("t:3", 0, [[cell], [wide]]);
  assert.equal(b[0].byteLength, 5 * 2 * 4); // starts: two rings and three long edges
  const c = new Chunk(h, views(b));
  const got = c.shape(0).coords.concat(c.shape(1).coords), want = cell.concat(wide);
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) <= 1 / 2048 + 0.002, `coordinate ${i}: ${got[i]} for ${want[i]}`);
  assert.deepEqual(c.shape(1).coords.slice(0, 4), [10, 10, 50, 10]);
});

test("a polygon chunk whose steps do not match its rings is refused, naming what it held", () => {
  const [h, b] = polygonChunk("t:3", 0, [[[0, 0, 1, 0, 1, 1]]]);
  assert.throws(() => new Chunk(h, views([b[0], b[1], b[2], new Int16Array(2).buffer])), /1 run starts and 1 steps for 1 rings, used 1 and 2/);
});
