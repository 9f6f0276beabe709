import assert from "node:assert/strict";
import { test } from "node:test";
import { reviewText, screeningOf, tileBounds } from "../src/review/screening";
import type { ScreeningState } from "../src/widget-model";

const grid: ScreeningState = {
  width: 1000, height: 500, tile_width: 400, tile_height: 400, step_x: 340, step_y: 340, cols: 3, rows: 2,
  tiles: [0, 1, 2, 4], visited: [0], current: 1, zoom: 1, status: "",
};

test("tile bounds follow the kernel's grid: the last column and row end at the edge", () => {
  assert.deepEqual(tileBounds(grid, 0), [0, 0, 400, 400]);
  assert.deepEqual(tileBounds(grid, 2), [600, 0, 1000, 400]);
  assert.deepEqual(tileBounds(grid, 4), [340, 100, 740, 500]);
});

test("the screening trait counts only when it holds a grid", () => {
  assert.equal(screeningOf({}), null);
  assert.equal(screeningOf(grid), grid);
});

test("the status line shows screening progress and the queue position", () => {
  assert.equal(reviewText(grid, {}), "screened 1/4 (25%)");
  assert.equal(reviewText(null, { position: 2, total: 5, done: false }), "review 3/5");
  assert.equal(reviewText(grid, { position: 4, total: 5, done: true }), "screened 1/4 (25%) · review 5/5 (end)");
  assert.equal(reviewText(null, { position: 0, total: 0, done: true }), "review queue empty");
});
