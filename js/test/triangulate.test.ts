import assert from "node:assert/strict";
import { test } from "node:test";
import { triangulate, triangulateShapes } from "../src/render/triangulate";

/** Total area of a triangle list (x, y of three vertices each). */
function area(tri: Float32Array): number {
  let a = 0;
  for (let i = 0; i < tri.length; i += 6) {
    const [x0, y0, x1, y1, x2, y2] = tri.subarray(i, i + 6);
    a += Math.abs((x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)) / 2;
  }
  return a;
}

function cell(cx: number, cy: number, r: number, n: number, close = false): number[] {
  const out: number[] = [];
  for (let k = 0; k < n; k++) out.push(cx + r * Math.cos((2 * Math.PI * k) / n), cy + r * Math.sin((2 * Math.PI * k) / n));
  if (close) out.push(out[0], out[1]);
  return out;
}

test("a square with a hole is covered exactly: its area minus the hole's", () => {
  const square = [0, 0, 100, 0, 100, 100, 0, 100];
  const hole = [40, 40, 60, 40, 60, 60, 40, 60];
  const tri = triangulateShapes([{ coords: [...square, ...hole], rings: [0, 4] }]);
  assert.ok(Math.abs(area(tri) - (10000 - 400)) < 1e-3, `area ${area(tri)}`);
});

test("a concave outline is not fanned across its notch", () => {
  // an L: area 3 of the 4 unit squares of its bounding box
  const tri = triangulateShapes([{ coords: [0, 0, 2, 0, 2, 1, 1, 1, 1, 2, 0, 2] }]);
  assert.ok(Math.abs(area(tri) - 3) < 1e-6, `area ${area(tri)}`);
});

test("chunk columns: a closed 17-vertex ring and an open one give the same triangles, hidden shapes none", () => {
  const a = cell(50, 50, 10, 16, true), b = cell(150, 50, 10, 16, false), c = cell(250, 50, 10, 16, true);
  const coords = Float32Array.from([...a, ...b, ...c]);
  const offsets = Uint32Array.from([0, 17, 33, 50]);
  const geomOffsets = Uint32Array.from([0, 1, 2, 3]);
  const all = triangulate({ coords, offsets, geomOffsets }, 0, 3);
  const polygonArea = 0.5 * 16 * 100 * Math.sin((2 * Math.PI) / 16);
  assert.ok(Math.abs(area(all) - 3 * polygonArea) < 1e-2, `area ${area(all)}`);
  assert.equal(all.length, 3 * 14 * 6); // n - 2 triangles per 16-gon, the closing vertex dropped
  const hidden = Uint8Array.from([0, 1, 0]);
  const some = triangulate({ coords, offsets, geomOffsets }, 0, 3, hidden);
  assert.ok(Math.abs(area(some) - 2 * polygonArea) < 1e-2);
  assert.equal(triangulate({ coords, offsets, geomOffsets }, 1, 2).length, 14 * 6);
});

test("a degenerate ring (two vertices) adds no triangles", () => {
  assert.equal(triangulateShapes([{ coords: [0, 0, 5, 5] }]).length, 0);
});
