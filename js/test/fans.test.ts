import assert from "node:assert/strict";
import { test } from "node:test";
import { buildFans, FAN_STRIDE } from "../src/render/fans";

/** Columns of polygons given as rings (x, y flat), one list of rings per shape. */
function columns(shapes: number[][][]) {
  const coords: number[] = [], offsets = [0], geomOffsets = [0];
  for (const rings of shapes) {
    for (const r of rings) {
      coords.push(...r);
      offsets.push(coords.length / 2);
    }
    geomOffsets.push(offsets.length - 1);
  }
  return { coords: Float32Array.from(coords), offsets: Uint32Array.from(offsets), geomOffsets: Uint32Array.from(geomOffsets) };
}

const square = [0, 0, 10, 0, 10, 10, 0, 10];
const cShape = [0, 0, 10, 0, 10, 2, 2, 2, 2, 8, 10, 8, 10, 10, 0, 10]; // its vertices' mean is in the mouth

test("a convex outline is one fan: the centre, then each vertex with the one before it", () => {
  const f = buildFans(columns([[square]]), 0, 1);
  assert.deepEqual(f.rest, []);
  assert.equal(f.vertices.length, 5 * FAN_STRIDE);
  assert.deepEqual(Array.from(f.vertices.subarray(0, 6)), [5, 5, 5, 5, 5, 5]); // the centre
  assert.equal(f.vertices[6], 0); // ... is not pushed outwards
  // vertex (0, 0): previous (0, 10), centre (5, 5), 5 from its nearer edge
  assert.deepEqual(Array.from(f.vertices.subarray(FAN_STRIDE, 2 * FAN_STRIDE)), [0, 0, 0, 10, 5, 5, 5]);
  // one triangle per edge, each ending at the vertex that carries that edge
  assert.deepEqual(Array.from(f.indices), [0, 4, 1, 0, 1, 2, 0, 2, 3, 0, 3, 4]);
});

test("a repeated closing vertex is dropped", () => {
  const f = buildFans(columns([[[...square, 0, 0]]]), 0, 1);
  assert.equal(f.vertices.length, 5 * FAN_STRIDE);
  assert.equal(f.indices.length, 12);
});

test("holes, outlines concave around their mean and flat ones are not fans", () => {
  const hole = [4, 4, 6, 4, 6, 6];
  const f = buildFans(columns([[square, hole], [cShape], [[0, 0, 5, 0, 10, 0]], [square]]), 0, 4);
  assert.deepEqual(f.rest, [0, 1, 2]); // the flat one has no fill, but its outline is drawn
  assert.equal(f.indices.length, 12); // the last square
});

test("hidden shapes are skipped", () => {
  const f = buildFans(columns([[square], [cShape], [square]]), 0, 3, Uint8Array.from([1, 1, 0]));
  assert.deepEqual(f.rest, []);
  assert.equal(f.indices.length, 12);
  assert.equal(f.indices[0], 0); // indices start at the shapes drawn, not the ones skipped
});
