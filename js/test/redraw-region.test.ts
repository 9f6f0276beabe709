import assert from "node:assert/strict";
import { test } from "node:test";
import { RedrawRegion } from "../src/render/redraw-region";

test("brush boxes alone give one scissor over their union, in drawing-buffer pixels counted from the bottom", () => {
  const r = new RedrawRegion();
  r.add([100, 50, 120, 60]);
  r.add([110, 40, 130, 55]);
  // a canvas of 400 x 300 CSS px drawn at 2 device pixels per CSS px; 3 px of margin
  assert.deepEqual(r.take([400, 300], [800, 600]), [194, 600 - 126, 72, 52]);
  assert.equal(r.take([400, 300], [800, 600]), null); // taken: a render without a box is whole
});

test("anything else asked for redraws the whole canvas, boxes or not", () => {
  const r = new RedrawRegion();
  r.add([10, 10, 20, 20]);
  r.all();
  r.add([30, 30, 40, 40]);
  assert.equal(r.take([400, 300], [400, 300]), null);
  r.add([30, 30, 40, 40]);
  assert.deepEqual(r.take([400, 300], [400, 300]), [27, 300 - 43, 16, 16]); // the next frame is the brush's again
});

test("a box is clipped to the canvas; one wholly outside draws a single pixel", () => {
  const r = new RedrawRegion();
  r.add([-50, -50, 10, 10]);
  assert.deepEqual(r.take([100, 100], [100, 100]), [0, 87, 13, 13]);
  r.add([500, 500, 600, 600]);
  assert.deepEqual(r.take([100, 100], [100, 100]), [0, 0, 1, 1]);
});
