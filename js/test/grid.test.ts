import assert from "node:assert/strict";
import { test } from "node:test";
import { GridIndex } from "../src/data/grid";

/** A pseudo-random sequence, the same on every run. */
function random(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

function boxes(n: number, size: number, rnd: () => number): Float32Array {
  const b = new Float32Array(4 * n);
  for (let i = 0; i < n; i++) {
    const x = rnd() * 1000, y = rnd() * 500, s = rnd() * size;
    b.set([x, y, x + s, y + s], 4 * i);
  }
  return b;
}

function query(grid: GridIndex, r: number[]): number[] {
  const out: number[] = [];
  grid.query(r[0], r[1], r[2], r[3], (i) => out.push(i));
  return out;
}

test("a query visits every shape overlapping the rectangle, each once", () => {
  const rnd = random(7);
  const b = boxes(5000, 20, rnd);
  const grid = new GridIndex(b, 5000, [0, 0, 1020, 520]);
  for (let q = 0; q < 50; q++) {
    const x = rnd() * 1000, y = rnd() * 500;
    const r = [x, y, x + rnd() * 100, y + rnd() * 100];
    const found = query(grid, r);
    assert.equal(new Set(found).size, found.length, "a shape visited twice");
    const overlapping = [];
    for (let i = 0; i < 5000; i++) if (b[4 * i] <= r[2] && b[4 * i + 2] >= r[0] && b[4 * i + 1] <= r[3] && b[4 * i + 3] >= r[1]) overlapping.push(i);
    // the grid may visit a few more (same cells), never fewer
    for (const i of overlapping) assert.ok(found.includes(i), `shape ${i} missed by query ${r}`);
  }
});

test("a shape spanning many cells is visited by every query", () => {
  const b = new Float32Array(4 * 2001);
  b.set(boxes(2000, 5, random(3)));
  b.set([0, 0, 1000, 500], 4 * 2000); // over all of the grid's cells: kept in its short list
  const grid = new GridIndex(b, 2001, [0, 0, 1005, 505]);
  for (const r of [[1, 1, 2, 2], [990, 490, 999, 499], [500, 250, 500, 250]]) assert.ok(query(grid, r).includes(2000), `missed by ${r}`);
});
