import assert from "node:assert/strict";
import { test } from "node:test";
import { wheelZoom } from "../src/viewer/pointer";

test("a wheel notch zooms in or out, line and page scrolling count more, one event at most a factor of two", () => {
  assert.equal(wheelZoom(-100, 0), 0.25);
  assert.equal(wheelZoom(100, 0), -0.25);
  assert.equal(wheelZoom(-3, 1), (3 * 33) / 400);
  assert.equal(wheelZoom(-1, 2), 1);
  assert.equal(wheelZoom(-5000, 0), 1);
  assert.equal(wheelZoom(5000, 0), -1);
});
