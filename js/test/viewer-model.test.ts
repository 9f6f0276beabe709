import assert from "node:assert/strict";
import { test } from "node:test";
import { Session } from "../src/session/session";
import { ViewerEvent, ViewerModel, ScreenPointer } from "../src/viewer/model";
import type { ViewerTraits } from "../src/widget-model";
import { boxChunk, FakeModel, layerMeta, pointChunk, sleep, typeMeta } from "./fakes";

const TYPES = [typeMeta(0, "tumor", "box"), typeMeta(1, "mitosis", "point"), typeMeta(2, "region", "polygon")];
const LAYERS = [...TYPES.map((t) => layerMeta(t.layer, { source: "type", type_index: t.index })), layerMeta("u:model", { editable: false })];

/** A view 800 x 600 of the 10,000 x 8,000 test slide, with three types, a box and a model's point. */
function viewer(traits: Partial<ViewerTraits> = {}) {
  const model = new FakeModel({ _types: TYPES, _layers: LAYERS, ...traits });
  const session = new Session(model);
  model.deliver({ type: "reset", gen: 1 });
  const [h, b] = boxChunk("t:1", 0, [[1000, 1000, 1200, 1100]], { gen: 1 });
  model.deliver(h, b);
  const [hp, bp] = pointChunk("u:model", 10, [[3000, 3000]], { gen: 1 });
  model.deliver(hp, bp);
  model.deliver({ type: "done", gen: 1, batch: 1 });
  const m = new ViewerModel(session);
  const events: ViewerEvent[] = [];
  m.on((e) => events.push(e));
  m.resize(800, 600);
  return { model, session, m, events };
}

const at = (sx: number, sy: number, mods: Partial<ScreenPointer> = {}): ScreenPointer => ({ sx, sy, shift: false, alt: false, ctrl: false, ...mods });

test("the first size with an image fits the image in view", () => {
  const { m } = viewer();
  const [x0, y0, x1, y1] = m.camera.bounds();
  assert.ok(x0 <= 0 && y0 <= 0 && x1 >= 10000 && y1 >= 8000, `${[x0, y0, x1, y1]}`);
  assert.ok(Math.abs(m.camera.scale - 580 / 8000) < 1e-9, `scale ${m.camera.scale}`);
});

test("a goto from Python centres the view, a later resize does not undo it", () => {
  const { model, m } = viewer();
  model.set("_goto", { x: 2000, y: 3000, scale: 0.5, n: 1 });
  assert.deepEqual([m.camera.cx, m.camera.cy, m.camera.scale], [2000, 3000, 0.5]);
  m.resize(1000, 700);
  assert.deepEqual([m.camera.cx, m.camera.cy], [2000, 3000]);
  model.set("_goto", { bbox: [0, 0, 1000, 700], n: 2 });
  assert.deepEqual(m.camera.bounds(), [0, 0, 1000, 700]);
});

test("the camera reaches the view trait once it rests", async () => {
  const { model, m, events } = viewer();
  m.act({ do: "pan", dx: 0.1, dy: 0 });
  m.act({ do: "pan", dx: 0.1, dy: 0 });
  assert.deepEqual(model.get("view"), {});
  assert.ok(events.includes("camera"));
  await sleep(260);
  const v = model.get("view");
  assert.ok("x" in v && Math.abs(v.x - (5000 + 160 / m.camera.scale)) < 1e-6, JSON.stringify(v));
  assert.deepEqual("bounds" in v && v.bounds, m.camera.bounds());
});

test("the first fit and a goto from Python reach the view trait too", async () => {
  const { model, m } = viewer();
  await sleep(260);
  const fitted = model.get("view");
  assert.deepEqual("bounds" in fitted && fitted.bounds, m.camera.bounds());
  model.set("_goto", { x: 2000, y: 3000, scale: 0.5, n: 1 });
  await sleep(260);
  const moved = model.get("view");
  assert.ok("x" in moved && moved.x === 2000 && moved.y === 3000 && moved.scale === 0.5, JSON.stringify(moved));
});

test("c toggles between selecting and the last drawing tool, and the tool trait follows", () => {
  const { model, m, events } = viewer();
  m.setTool("polygon");
  assert.equal(model.get("tool"), "polygon");
  assert.ok(events.includes("tool"));
  m.act({ do: "toggleDraw" });
  assert.equal(m.interaction.tool, "select");
  m.act({ do: "toggleDraw" });
  assert.equal(m.interaction.tool, "polygon");
  model.set("tool", "pan"); // from Python
  assert.equal(m.interaction.tool, "pan");
  m.act({ do: "toggleDraw" });
  assert.equal(model.get("tool"), "polygon");
});

test("y hides and shows annotations; a hidden viewer hits nothing", () => {
  const { model, m } = viewer();
  m.act({ do: "toggleAnnotations" });
  assert.equal(model.get("annotations_visible"), false);
  m.setTool("select");
  model.set("_goto", { bbox: [900, 900, 1300, 1200], n: 1 });
  const [sx, sy] = m.camera.toScreen(1100, 1050);
  m.pointerDown(at(sx, sy), 0);
  m.pointerUp(at(sx, sy));
  assert.equal(m.session.store.selection.size, 0);
  m.act({ do: "toggleAnnotations" });
  assert.equal(model.get("annotations_visible"), true);
});

test("frames step within the slide's frames", () => {
  const { model, m } = viewer();
  m.act({ do: "frame", delta: -1 });
  assert.equal(model.get("frame"), 0);
  m.act({ do: "frame", delta: 1 });
  m.act({ do: "frame", delta: 1 });
  m.act({ do: "frame", delta: 1 });
  assert.equal(model.get("frame"), 2);
});

test("screening keys without a screening move by 85 % of the view and report the move", () => {
  const { model, m } = viewer();
  model.set("_goto", { bbox: [0, 0, 800, 600], n: 1 });
  m.act({ do: "screen", dx: 1, dy: 0, mark: true });
  assert.equal(m.camera.cx, 400 + 680);
  const [sent] = model.sentOf("screening");
  assert.deepEqual(sent.msg, { type: "screening", dx: 1, dy: 0, mark: true, bounds: m.camera.bounds() });
  m.act({ do: "screen", dx: 0, dy: 1, mark: false });
  assert.equal(m.camera.cy, 300 + 510);
  assert.equal((model.sentOf("screening")[1].msg as { mark: boolean }).mark, false);
});

test("with a screening attached the keys leave the move to the kernel", () => {
  const { model, m } = viewer();
  model.set("_goto", { bbox: [0, 0, 800, 600], n: 1 });
  model.set("_screening", { width: 1000, height: 500, tile_width: 400, tile_height: 400, step_x: 340, step_y: 340,
    cols: 3, rows: 2, tiles: [0, 1], visited: [], current: 0, zoom: 1, status: "" });
  const before = m.camera.cx;
  m.act({ do: "screen", dx: 1, dy: 0, mark: false });
  assert.equal(m.camera.cx, before);
  assert.equal((model.sentOf("screening")[0].msg as { mark: boolean }).mark, false);
});

test("v / r send a verdict on the selection, n / p step the review queue", () => {
  const { model, m, session } = viewer();
  session.store.setSelection([3]);
  m.act({ do: "verdict", verified: false });
  const [sent] = model.sentOf("verdict");
  assert.deepEqual(sent.msg, { type: "verdict", verified: false });
  assert.deepEqual(Array.from(new Float64Array(sent.buffers[0])), [3]);
  m.act({ do: "review", delta: -1 });
  assert.deepEqual(model.sentOf("review_step")[0].msg, { type: "review_step", delta: -1 });
});

test("q / e ask the kernel for another image, f verifies the selection", () => {
  const { model, m, session } = viewer();
  m.act({ do: "image", delta: 1 });
  assert.deepEqual(model.sentOf("navigate")[0].msg, { type: "navigate", delta: 1 });
  session.store.setSelection([0, 10]);
  m.act({ do: "verify" });
  const [verify] = model.sentOf("verify");
  assert.deepEqual(Array.from(new Float64Array(verify.buffers[0])), [0, 10]);
});

test("a number key without a selection picks the type and its tool", () => {
  const { m, session } = viewer();
  m.act({ do: "type", key: "2" });
  assert.equal(m.currentType, 1);
  assert.equal(m.interaction.tool, "point");
  assert.equal(session.notice?.text, 'drawing "mitosis"');
});

test("a number key with a selection changes its type where the geometry fits", () => {
  const { m, session } = viewer();
  session.store.setSelection([0]);
  m.act({ do: "type", key: "3" }); // box -> polygon: its four corners
  assert.deepEqual(session.store.get(0), { id: 0, layer: "t:3", kind: "polygon", coords: [1000, 1000, 1200, 1000, 1200, 1100, 1000, 1100], rings: undefined });
  assert.equal(session.notice?.text, "type → region");
  m.act({ do: "type", key: "2" }); // a polygon cannot be a point
  assert.equal(session.store.get(0)?.layer, "t:3");
  assert.match(session.notice?.text ?? "", /1 selected annotation\(s\) cannot become "mitosis"/);
  session.store.setSelection([10]); // a model's point: not a type's shape
  m.act({ do: "type", key: "1" });
  assert.equal(session.store.get(10)?.layer, "u:model");
  m.act({ do: "undo" });
  assert.equal(session.store.get(0)?.kind, "box");
});

test("delete removes the editable selection, Esc clears it; a read-only layer refuses", () => {
  const { m, session } = viewer();
  session.store.setSelection([10]);
  m.act({ do: "delete" });
  assert.ok(session.store.get(10));
  assert.equal(session.notice?.text, "these annotations are not editable");
  session.store.setSelection([0, 10]);
  m.act({ do: "delete" });
  assert.equal(session.store.get(0), null);
  assert.equal(session.store.selection.size, 0);
  m.act({ do: "undo" });
  assert.deepEqual([...session.store.selection], [0]);
  assert.equal(session.notice?.text, "undo delete");
  m.act({ do: "cancel" });
  assert.equal(session.store.selection.size, 0);
  m.act({ do: "redo" });
  assert.equal(session.store.get(0), null);
});

test("drawing a box with the pointer makes a shape of the current type, in image pixels", () => {
  const { model, m, session } = viewer();
  model.set("_goto", { bbox: [0, 0, 800, 600], n: 1 }); // one screen pixel = one image pixel
  m.setTool("box");
  m.pointerDown(at(100, 100), 0);
  m.pointerMove(at(150, 130));
  m.pointerMove(at(200, 160));
  m.pointerUp(at(200, 160));
  const [id] = session.store.selection;
  assert.deepEqual(session.store.get(id)?.coords, [100, 100, 200, 160]);
  assert.equal(session.store.get(id)?.layer, "t:1");
  assert.equal(session.store.count("t:1"), 2);
});

test("dragging in the pan tool moves the camera; the wheel zooms about the pointer", () => {
  const { model, m } = viewer();
  model.set("_goto", { bbox: [0, 0, 800, 600], n: 1 });
  m.pointerDown(at(400, 300), 0);
  m.pointerMove(at(420, 300));
  m.pointerMove(at(450, 310));
  m.pointerUp(at(450, 310));
  assert.deepEqual([m.camera.cx, m.camera.cy], [350, 290]);
  const [wx, wy] = m.camera.toWorld(100, 100);
  m.wheel(at(100, 100), 1);
  assert.equal(m.camera.scale, 2);
  assert.deepEqual(m.camera.toWorld(100, 100), [wx, wy]);
  assert.deepEqual([m.cursor?.x, m.cursor?.y], [wx, wy]);
});

test("a read-only viewer draws nothing and says why", () => {
  const { model, m, session } = viewer({ editable: false });
  model.set("_goto", { bbox: [0, 0, 800, 600], n: 1 });
  m.setTool("point");
  m.pointerDown(at(100, 100), 0);
  m.pointerUp(at(100, 100));
  assert.equal(session.store.count("t:2"), 0);
  assert.equal(session.notice?.text, "this viewer is read-only");
});

test("image adjustments from the panel go to the traits and back into the model", () => {
  const { model, m } = viewer();
  m.adjust({ brightness: 0.2, channels: [true, false, true] });
  assert.equal(model.get("brightness"), 0.2);
  assert.deepEqual(m.adjustments, { brightness: 0.2, contrast: 1, gamma: 1, channels: [true, false, true] });
  m.styleLayer("u:model", { visible: false });
  assert.equal(model.get("_layers").find((l) => l.key === "u:model")?.visible, false);
});

test("a destroyed model stops listening to the traits", () => {
  const { model, m } = viewer();
  const before = model.listenerCount("change:tool");
  m.destroy();
  assert.equal(model.listenerCount("change:tool"), before - 1);
});

test("a brush drag and the brush's hover report only the brush (a box redrawn at full resolution); a fill drag reports paint", () => {
  const types = [...TYPES, typeMeta(3, "tumour", "mask", { type_id: 9 })];
  const { m, events } = viewer({ _types: types });
  m.setTool("brush");
  events.length = 0;
  m.pointerMove(at(100, 100));
  assert.deepEqual(events, ["brush"]);
  m.pointerDown(at(100, 100), 0);
  events.length = 0;
  m.pointerMove(at(140, 120));
  assert.deepEqual(events, ["brush"]);
  m.pointerUp(at(140, 120));
  assert.deepEqual(events, ["brush", "render"]); // the stroke's end redraws everything
  m.setTool("fill");
  m.pointerDown(at(100, 100), 0);
  events.length = 0;
  m.pointerMove(at(200, 200));
  assert.deepEqual(events, ["paint", "render"]);
  m.pointerUp(at(200, 200));
  m.setTool("select");
  events.length = 0;
  m.pointerMove(at(250, 200));
  assert.ok(!events.includes("brush") && !events.includes("paint"));
});
