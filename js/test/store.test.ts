import assert from "node:assert/strict";
import { test } from "node:test";
import { AnnotationStore, StoreEvent } from "../src/data/store";
import { boxChunk, layerMeta, pointChunk, views } from "./fakes";

function storeWith(): AnnotationStore {
  const s = new AnnotationStore();
  s.reset(0);
  const [h, b] = boxChunk("t:1", 0, [[0, 0, 10, 10], [100, 100, 200, 200], [120, 120, 130, 130]]);
  s.addChunk(h, views(b));
  const [hp, bp] = pointChunk("u:cells", 10, [[50, 50], [150, 150]]);
  s.addChunk(hp, views(bp));
  return s;
}

const layers = [layerMeta("t:1"), layerMeta("u:cells")];

test("a chunk of an older generation is ignored", () => {
  const s = storeWith();
  s.reset(1);
  const [h, b] = boxChunk("t:1", 0, [[0, 0, 1, 1]], { gen: 0 });
  s.addChunk(h, views(b));
  assert.equal(s.count("t:1"), 0);
  assert.equal(s.get(0), null);
});

test("shapes are found by id across chunks", () => {
  const s = storeWith();
  assert.deepEqual(s.get(1)?.coords, [100, 100, 200, 200]);
  assert.deepEqual(s.get(11)?.coords, [150, 150]);
  assert.equal(s.get(5), null);
  assert.equal(s.layerOf(11), "u:cells");
});

test("a put shape replaces its chunk copy, a removed one is gone and unselected", () => {
  const s = storeWith();
  s.put({ id: 1, layer: "t:1", kind: "box", coords: [100, 100, 300, 300] });
  assert.deepEqual(s.get(1)?.coords, [100, 100, 300, 300]);
  assert.equal(s.count("t:1"), 3);
  s.setSelection([1, 2]);
  s.remove(1);
  s.remove(2);
  assert.equal(s.get(1), null);
  assert.equal(s.get(2), null);
  assert.equal(s.count("t:1"), 1);
  assert.equal(s.selection.size, 0);
});

test("a shape moved to another layer is counted there", () => {
  const s = storeWith();
  s.put({ id: 0, layer: "t:2", kind: "box", coords: [0, 0, 10, 10] });
  assert.equal(s.count("t:1"), 2);
  assert.equal(s.count("t:2"), 1);
  assert.equal(s.layers.get("t:1")!.overlay.size, 0);
});

test("a click hits the smallest shape under it first, in visible layers only", () => {
  const s = storeWith();
  assert.deepEqual(s.hit(125, 125, 1, layers).map((x) => x.id), [2, 1]);
  assert.deepEqual(s.hit(125, 125, 1, [layerMeta("u:cells")]), []);
  assert.deepEqual(s.hit(50.5, 50, 1, layers).map((x) => x.id), [10]);
});

test("a box or lasso selects the shapes whose centres it holds", () => {
  const s = storeWith();
  assert.deepEqual(s.within([0, 0, 160, 160], layers).sort((a, b) => a - b), [0, 1, 2, 10, 11]);
  assert.deepEqual(s.within([0, 0, 140, 140], layers).sort((a, b) => a - b), [0, 2, 10]);
  const triangle = [0, 0, 200, 0, 0, 200];
  assert.deepEqual(s.within([0, 0, 200, 200], layers, triangle).sort((a, b) => a - b), [0, 10]);
});

test("dropping a layer takes its chunks, its edited shapes and its selection", () => {
  const s = storeWith();
  const events: StoreEvent[] = [];
  s.on((e) => events.push(e));
  s.put({ id: 11, layer: "u:cells", kind: "point", coords: [160, 160] }); // edited: in the overlay
  s.put({ id: 2000, layer: "u:cells", kind: "point", coords: [5, 5] }); // drawn in the browser
  s.setSelection([1, 10, 11]);
  assert.equal(s.dropLayer("u:cells"), true);
  assert.equal(s.count("u:cells"), 0);
  assert.equal(s.layers.has("u:cells"), false);
  for (const id of [10, 11, 2000]) assert.equal(s.get(id), null, `shape ${id} is still there`);
  assert.equal(s.overlay.size, 0);
  assert.deepEqual([...s.selection], [1]);
  assert.deepEqual(s.hit(50, 50, 2, layers), []);
  assert.deepEqual(s.within([0, 0, 1000, 1000], layers).sort((a, b) => a - b), [0, 1, 2]);
  assert.deepEqual(events.slice(-2), ["selection", "drop"]);
  // the other layer is untouched; dropping again changes nothing
  assert.equal(s.count("t:1"), 3);
  assert.equal(s.dropLayer("u:cells"), false);
});

test("a layer added again after its drop holds only the new shapes", () => {
  const s = storeWith();
  s.dropLayer("u:cells");
  const [h, b] = pointChunk("u:cells", 20, [[1, 2]]);
  s.addChunk(h, views(b));
  assert.equal(s.count("u:cells"), 1);
  assert.equal(s.get(10), null);
  assert.deepEqual(s.get(20)?.coords, [1, 2]);
});

test("density maps visit the centre of every live shape", () => {
  const s = storeWith();
  s.remove(1);
  const centres: number[][] = [];
  s.forEachCenter("t:1", (x, y) => centres.push([x, y]));
  assert.deepEqual(centres, [[5, 5], [125, 125]]);
});
