import assert from "node:assert/strict";
import { test } from "node:test";
import { AnnotationStore } from "../src/data/store";
import { countInFrame, frameCorner } from "../src/viewer/hpf";
import { boxChunk, pointChunk, views } from "./fakes";

function store(): AnnotationStore {
  const s = new AnnotationStore();
  s.reset(0);
  // boxes centred at (5, 5), (150, 150), (100, 100) — the last on the frame's left / top edge
  const [h, b] = boxChunk("t:1", 0, [[0, 0, 10, 10], [140, 140, 160, 160], [95, 95, 105, 105]]);
  s.addChunk(h, views(b));
  const [hp, bp] = pointChunk("t:2", 10, [[120, 120], [200, 150], [300, 300]]);
  s.addChunk(hp, views(bp));
  const [hf, bf] = boxChunk("u:10 HPF", 20, [[100, 100, 200, 200]]);
  s.addChunk(hf, views(bf));
  return s;
}

test("the frame counts centres with its left and top edges inside, right and bottom outside", () => {
  const s = store();
  assert.equal(countInFrame(s, ["t:1"], 100, 100, 100), 2); // (100, 100) and (150, 150)
  assert.equal(countInFrame(s, ["t:2"], 100, 100, 100), 1); // (200, 150) is on the right edge: outside
  assert.equal(countInFrame(s, ["t:1", "t:2"], 100, 100, 100), 3);
  assert.equal(countInFrame(s, [], 100, 100, 100), 0);
});

test("the frame's corner follows its box while it is dragged (the preview in the store)", () => {
  const s = store();
  assert.deepEqual(frameCorner(s, "u:10 HPF", 100), [100, 100]);
  s.put({ id: 20, layer: "u:10 HPF", kind: "box", coords: [250, 250, 350, 350] });
  assert.deepEqual(frameCorner(s, "u:10 HPF", 100), [250, 250]);
  assert.equal(countInFrame(s, ["t:1", "t:2"], 250, 250, 100), 1); // the point at (300, 300)
  assert.equal(frameCorner(s, "u:none", 100), null);
});
