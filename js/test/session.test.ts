import assert from "node:assert/strict";
import { test } from "node:test";
import type { DrawnMsg, ToBrowser } from "../src/protocol";
import { Session } from "../src/session/session";
import { boxChunk, FakeModel, pointChunk, sleep, SOURCE } from "./fakes";

function session() {
  const model = new FakeModel();
  const s = new Session(model);
  model.deliver({ type: "reset", gen: 1 });
  const [h, b] = boxChunk("t:1", 0, [[0, 0, 10, 10], [20, 20, 30, 30]], { gen: 1, batch: 4 });
  model.deliver(h, b);
  const [hp, bp] = pointChunk("u:cells", 5, [[1, 1], [2, 2], [3, 3]], { gen: 1, batch: 4, chunk: 0 });
  model.deliver(hp, bp);
  model.deliver({ type: "done", gen: 1, batch: 4 });
  return { model, s };
}

const f64 = (ids: number[]) => Float64Array.from(ids).buffer;

test("a view says hello, and tells the kernel when neither the server nor the kernel serves tiles", async () => {
  const model = new FakeModel(); // no Jupyter page here, and SOURCE.comm is false
  const s = new Session(model);
  assert.deepEqual(model.sent[0].msg, { type: "hello" });
  assert.ok(s.tiles, "a tile source is being looked for");
  await assert.rejects(s.tiles!, /^Error: Cannot load tiles: no Jupyter server page here .*; and the kernel cannot serve tiles either/);
  await sleep(0);
  assert.equal(model.get("_transport_active"), "none");
  assert.match(s.tileError ?? "", /^Cannot load tiles/);
});

test("a slide the kernel could not open has no tile source, and says why", () => {
  const s = new Session(new FakeModel({ _source: { ...SOURCE, error: "cannot open a.svs: not a slide" } }));
  assert.equal(s.tiles, null);
  assert.equal(s.tileError, "cannot open a.svs: not a slide");
});

test("chunks of a generation fill the store; done completes it, and its timings are reported once", () => {
  const { model, s } = session();
  assert.equal(s.store.count("t:1"), 2);
  assert.equal(s.store.count("u:cells"), 3);
  assert.equal(s.store.complete, true);
  s.reportDrawn();
  s.reportDrawn();
  const drawn = model.sentOf("drawn");
  assert.equal(drawn.length, 1);
  const report: DrawnMsg = drawn[0].msg;
  assert.equal(report.batch, 4);
  assert.equal(report.gen, 1);
  assert.equal(report.bytes, 2 * 16 + 3 * 8);
});

test("messages of an older generation change nothing", () => {
  const { model, s } = session();
  model.deliver({ type: "remove", gen: 0 }, [f64([0])]);
  model.deliver({ type: "select", gen: 0 }, [f64([1])]);
  model.deliver({ type: "drop", gen: 0, layer: "t:1" });
  model.deliver({ type: "upsert", gen: 0, reason: "remote", shapes: [{ id: 0, layer: "t:1", kind: "point", n: 1 }] }, [f64([9, 9])]);
  assert.equal(s.store.count("t:1"), 2);
  assert.deepEqual(s.store.get(0)?.coords, [0, 0, 10, 10]);
  assert.equal(s.store.selection.size, 0);
});

test("an upsert puts shapes, unless the browser has an edit of that shape on its way", () => {
  const { model, s } = session();
  s.editor.apply("move", [{ id: 1, before: s.store.get(1), after: { id: 1, layer: "t:1", kind: "box", coords: [21, 21, 31, 31] } }]);
  model.deliver({
    type: "upsert", gen: 1, reason: "remote",
    shapes: [{ id: 0, layer: "t:1", kind: "polygon", n: 3, uuid: "a" }, { id: 1, layer: "t:1", kind: "box", n: 2 }],
  }, [f64([0, 0, 5, 0, 5, 5, 20, 20, 40, 40])]);
  assert.deepEqual(s.store.get(0), { id: 0, layer: "t:1", kind: "polygon", coords: [0, 0, 5, 0, 5, 5], rings: undefined, uuid: "a" });
  assert.deepEqual(s.store.get(1)?.coords, [21, 21, 31, 31]);
});

test("remove and select take float64 ids", () => {
  const { model, s } = session();
  model.deliver({ type: "select", gen: 1 }, [f64([0, 6])]);
  assert.deepEqual([...s.store.selection], [0, 6]);
  model.deliver({ type: "remove", gen: 1 }, [f64([6])]);
  assert.equal(s.store.count("u:cells"), 2);
  assert.deepEqual([...s.store.selection], [0]);
});

test("a dropped layer leaves the store, the selection and the history, and the kernel hears the new selection", async () => {
  const { model, s } = session();
  s.editor.apply("move", [{ id: 5, before: s.store.get(5), after: { id: 5, layer: "u:cells", kind: "point", coords: [4, 4] } }]);
  s.store.setSelection([0, 5, 6]);
  s.outbox.flush();
  model.deliver({ type: "drop", gen: 1, layer: "u:cells" });
  assert.equal(s.store.count("u:cells"), 0);
  assert.equal(s.store.get(5), null);
  assert.equal(s.store.layers.has("u:cells"), false);
  assert.deepEqual([...s.store.selection], [0]);
  assert.equal(s.editor.canUndo, false);
  await sleep(80);
  const selection = model.sentOf("selection").at(-1)!;
  assert.deepEqual(selection.msg, { type: "selection", gen: 1 });
  assert.deepEqual(Array.from(new Float64Array(selection.buffers[0])), [0]);
  assert.equal(s.store.count("t:1"), 2);
});

test("acknowledgements clear pending edits and show the kernel's refusal", () => {
  const { model, s } = session();
  s.editor.apply("move", [{ id: 1, before: s.store.get(1), after: { id: 1, layer: "t:1", kind: "box", coords: [0, 0, 1, 1] } }]);
  s.outbox.flush();
  assert.equal(s.outbox.unsent, 1);
  model.deliver({ type: "ack", seq: 1, errors: [{ id: 1, error: "annotation 1 is locked" }] });
  assert.equal(s.outbox.unsent, 0);
  assert.deepEqual([s.notice?.text, s.notice?.level], ["annotation 1 is locked", "error"]);
});

test("saved, notices, and an unknown message are shown on the status line", () => {
  const { model, s } = session();
  model.deliver({ type: "saved", pending: 3 });
  assert.equal(s.saved, false);
  model.deliver({ type: "saved", pending: 0 });
  assert.equal(s.saved, true);
  model.deliver({ type: "notice", text: "no further image" });
  assert.deepEqual([s.notice?.text, s.notice?.level], ["no further image", "info"]);
  model.deliver({ type: "teleport" } as unknown as ToBrowser);
  assert.equal(s.notice?.level, "warn");
  assert.match(s.notice?.text ?? "", /does not know: \{"type":"teleport"\}/);
});

test("the selection reaches the kernel after the edits that made its shapes", async () => {
  const { model, s } = session();
  const drawn = { id: s.editor.mintId(), layer: "t:1", kind: "point" as const, coords: [7, 7], uuid: "n" };
  s.editor.apply("draw point", [{ id: drawn.id, before: null, after: drawn }]);
  s.store.setSelection([drawn.id]);
  s.sendSelection();
  await sleep(80);
  const types = model.sent.map((m) => m.msg.type);
  assert.ok(types.lastIndexOf("edits") < types.lastIndexOf("selection"), types.join(" "));
});
