import assert from "node:assert/strict";
import { test } from "node:test";
import { Editor } from "../src/data/editor";
import { Outbox } from "../src/data/outbox";
import { AnnotationStore } from "../src/data/store";
import type { EditsMsg, Shape } from "../src/protocol";
import { boxChunk, views } from "./fakes";

function setup() {
  const store = new AnnotationStore();
  store.reset(0);
  const [h, b] = boxChunk("t:1", 0, [[0, 0, 10, 10], [20, 20, 30, 30]]);
  store.addChunk(h, views(b));
  const sent: EditsMsg[] = [];
  const outbox = new Outbox((msg) => sent.push(msg), 1000);
  return { store, outbox, sent, editor: new Editor(store, outbox) };
}

const moved = (s: Shape, d: number): Shape => ({ ...s, coords: s.coords.map((v) => v + d) });

test("an edit changes the store, queues the change for the kernel and can be undone and redone", () => {
  const { store, outbox, sent, editor } = setup();
  const before = store.get(0)!;
  editor.apply("move", [{ id: 0, before, after: moved(before, 5) }]);
  assert.deepEqual(store.get(0)!.coords, [5, 5, 15, 15]);
  assert.equal(editor.canUndo, true);
  assert.equal(editor.undo(), "move");
  assert.deepEqual(store.get(0)!.coords, [0, 0, 10, 10]);
  assert.deepEqual([...store.selection], [0]);
  assert.equal(editor.redo(), "move");
  assert.deepEqual(store.get(0)!.coords, [5, 5, 15, 15]);
  outbox.flush();
  assert.deepEqual(sent[0].ops.map((o) => [o.op, o.id]), [["put", 0]]);
});

test("undoing a deletion brings the shape back; undoing a drawing removes it", () => {
  const { store, editor } = setup();
  const s = store.get(1)!;
  editor.apply("delete", [{ id: 1, before: s, after: null }]);
  assert.equal(store.get(1), null);
  const drawn: Shape = { id: editor.mintId(), layer: "t:1", kind: "point", coords: [1, 1], uuid: "new" };
  editor.apply("draw point", [{ id: drawn.id, before: null, after: drawn }]);
  assert.ok(drawn.id >= 2 ** 30, "browser ids live above the kernel's");
  editor.undo();
  assert.equal(store.get(drawn.id), null);
  assert.deepEqual([...store.selection], []);
  editor.undo();
  assert.deepEqual(store.get(1)!.coords, [20, 20, 30, 30]);
});

test("a new edit clears what could be redone; nothing to undo says so", () => {
  const { store, editor } = setup();
  assert.equal(editor.undo(), null);
  const s = store.get(0)!;
  editor.apply("move", [{ id: 0, before: s, after: moved(s, 1) }]);
  editor.undo();
  assert.equal(editor.canRedo, true);
  editor.apply("move", [{ id: 0, before: s, after: moved(s, 2) }]);
  assert.equal(editor.canRedo, false);
  assert.equal(editor.redo(), null);
});

test("the recorded states are copies: later changes to the shapes do not rewrite history", () => {
  const { store, editor } = setup();
  const s = store.get(0)!;
  const after = moved(s, 3);
  editor.apply("move", [{ id: 0, before: s, after }]);
  after.coords[0] = 999;
  s.coords[0] = -999;
  editor.undo();
  assert.deepEqual(store.get(0)!.coords, [0, 0, 10, 10]);
  editor.redo();
  assert.deepEqual(store.get(0)!.coords, [3, 3, 13, 13]);
});

test("a preview shows a state without recording it", () => {
  const { store, outbox, editor } = setup();
  editor.preview(moved(store.get(0)!, 7));
  assert.deepEqual(store.get(0)!.coords, [7, 7, 17, 17]);
  assert.equal(editor.canUndo, false);
  assert.equal(outbox.unsent, 0);
});

test("history keeps the last 500 edits", () => {
  const { store, editor } = setup();
  for (let i = 0; i < 510; i++) {
    const s = store.get(0)!;
    editor.apply(`move ${i}`, [{ id: 0, before: s, after: moved(s, 1) }]);
  }
  let undone = 0;
  while (editor.undo()) undone++;
  assert.equal(undone, 500);
  assert.deepEqual(store.get(0)!.coords, [10, 10, 20, 20]);
});

test("a removed layer's changes leave the history, others stay", () => {
  const { store, editor } = setup();
  const user: Shape = { id: editor.mintId(), layer: "u:cells", kind: "point", coords: [1, 1] };
  editor.apply("draw point", [{ id: user.id, before: null, after: user }]);
  const s = store.get(0)!;
  editor.apply("move 2 shapes", [{ id: 0, before: s, after: moved(s, 1) }, { id: user.id, before: user, after: moved(user, 1) }]);
  editor.forgetLayer("u:cells");
  assert.equal(editor.undo(), "move 2 shapes");
  assert.deepEqual(store.get(0)!.coords, [0, 0, 10, 10]);
  assert.deepEqual(store.get(user.id)!.coords, [2, 2], "the removed layer's shape was undone too");
  assert.equal(editor.undo(), null);
});
