import assert from "node:assert/strict";
import { test } from "node:test";
import { cloneShape, hitScore, intersects, normalizeBox, pointInPolygon, round2, sameGeometry, shapeBBox, simplify, thinPath } from "../src/geometry";
import type { Shape } from "../src/protocol";

const box: Shape = { id: 1, layer: "t:1", kind: "box", coords: [10, 10, 30, 20] };
const square = [0, 0, 100, 0, 100, 100, 0, 100];
const hole = [40, 40, 60, 40, 60, 60, 40, 60];
const donut: Shape = { id: 2, layer: "t:1", kind: "polygon", coords: [...square, ...hole], rings: [0, 4] };

test("a shape's bounding box spans its vertices", () => {
  assert.deepEqual(shapeBBox(box), [10, 10, 30, 20]);
  assert.deepEqual(shapeBBox({ id: 3, layer: "l", kind: "path", coords: [5, 9, -2, 4, 7, 1] }), [-2, 1, 7, 9]);
});

test("boxes that touch intersect, boxes apart do not", () => {
  assert.equal(intersects([0, 0, 10, 10], [10, 10, 20, 20]), true);
  assert.equal(intersects([0, 0, 10, 10], [10.5, 0, 20, 10]), false);
});

test("a point in a polygon's hole is outside it", () => {
  assert.equal(pointInPolygon(donut.coords, donut.rings, 8, 20, 20), true);
  assert.equal(pointInPolygon(donut.coords, donut.rings, 8, 50, 50), false);
  assert.equal(pointInPolygon(square, undefined, 4, 150, 50), false);
});

test("a click inside a box scores its area, one outside the tolerance misses", () => {
  assert.equal(hitScore(box, 20, 15, 2, false, true), 200);
  assert.equal(hitScore(box, 31.5, 15, 2, false, true), 200); // within the tolerance of the edge
  assert.equal(hitScore(box, 35, 15, 2, false, true), -1);
  // drawn as an ellipse, the box's corner is not part of it
  assert.equal(hitScore(box, 11, 11, 0.5, true, true), -1);
  assert.equal(hitScore(box, 20, 15, 0.5, true, true), 200);
});

test("a click near a line hits it, a click on a polygon's hole misses", () => {
  const line: Shape = { id: 4, layer: "l", kind: "path", coords: [0, 0, 100, 0] };
  assert.equal(hitScore(line, 50, 1, 2, false, true), 0);
  assert.equal(hitScore(line, 50, 5, 2, false, true), -1);
  assert.equal(hitScore(donut, 20, 20, 1, false, true), 10000);
  assert.equal(hitScore(donut, 50, 50, 1, false, true), -1);
  assert.equal(hitScore(donut, 40.5, 50, 1, false, true), 10000); // on the hole's edge
});

test("a point is hit within the tolerance, by its distance", () => {
  const p: Shape = { id: 5, layer: "l", kind: "point", coords: [10, 10] };
  assert.equal(hitScore(p, 13, 14, 6, false, true), 5);
  assert.equal(hitScore(p, 13, 14, 4, false, true), -1);
});

test("a freehand stroke is thinned and simplified, keeping its ends", () => {
  const stroke = [0, 0, 0.2, 0, 1, 0, 2, 0.01, 3, 0, 3, 1, 3, 2];
  assert.deepEqual(thinPath(stroke, 0.5), [0, 0, 1, 0, 2, 0.01, 3, 0, 3, 1, 3, 2]);
  assert.deepEqual(simplify(thinPath(stroke, 0.5), 0.1), [0, 0, 3, 0, 3, 2]);
});

test("boxes are normalised, values rounded to hundredths", () => {
  assert.deepEqual(normalizeBox(30, 5, 10, 25), [10, 5, 30, 25]);
  assert.equal(round2(1.23456), 1.23);
});

test("a clone is independent of its original and has the same geometry", () => {
  const c = cloneShape(donut);
  assert.equal(sameGeometry(c, donut), true);
  c.coords[0] = 1;
  c.rings![1] = 5;
  assert.equal(donut.coords[0], 0);
  assert.equal(donut.rings![1], 4);
  assert.equal(sameGeometry(c, donut), false);
});
