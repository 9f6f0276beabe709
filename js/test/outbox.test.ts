import assert from "node:assert/strict";
import { test } from "node:test";
import { Outbox } from "../src/data/outbox";
import type { EditsMsg, Shape } from "../src/protocol";
import { sleep } from "./fakes";

function outbox(delayMs = 1000) {
  const sent: { msg: EditsMsg; coords: number[] }[] = [];
  const box = new Outbox((msg, buffers) => sent.push({ msg, coords: Array.from(new Float64Array(buffers[0])) }), delayMs);
  return { box, sent };
}

const shape = (id: number, coords: number[], kind: Shape["kind"] = "box"): Shape => ({ id, layer: "t:1", kind, coords, uuid: `u${id}` });

test("edits of one moment go as one message, the latest state of each shape winning", () => {
  const { box, sent } = outbox();
  box.put(shape(1, [0, 0, 1, 1]));
  box.put(shape(2, [5, 5]));
  box.put(shape(1, [0, 0, 2, 2]));
  box.delete(3);
  box.flush();
  assert.equal(sent.length, 1);
  assert.deepEqual(sent[0].msg, {
    type: "edits", seq: 1,
    ops: [
      { op: "put", id: 1, uuid: "u1", layer: "t:1", kind: "box", n: 2, rings: undefined },
      { op: "put", id: 2, uuid: "u2", layer: "t:1", kind: "box", n: 1, rings: undefined },
      { op: "delete", id: 3 },
    ],
  });
  assert.deepEqual(sent[0].coords, [0, 0, 2, 2, 5, 5]);
  box.flush(); // nothing new: nothing sent
  assert.equal(sent.length, 1);
});

test("an edit stays pending until the kernel acknowledges its message", () => {
  const { box } = outbox();
  box.put(shape(1, [0, 0, 1, 1]));
  assert.equal(box.isPending(1), true);
  box.flush();
  box.put(shape(2, [0, 0, 1, 1]));
  box.flush();
  assert.equal(box.unsent, 2);
  box.ack(1);
  assert.equal(box.isPending(1), false);
  assert.equal(box.isPending(2), true);
  box.ack(2);
  assert.equal(box.unsent, 0);
  assert.equal(box.lastAcked, 2);
});

test("a shape edited again after sending waits for the newer acknowledgement", () => {
  const { box } = outbox();
  box.put(shape(1, [0, 0, 1, 1]));
  box.flush();
  box.put(shape(1, [0, 0, 3, 3]));
  box.flush();
  box.ack(1);
  assert.equal(box.isPending(1), true);
});

test("edits go by themselves after the delay", async () => {
  const { box, sent } = outbox(5);
  let changes = 0;
  box.onStateChange = () => changes++;
  box.put(shape(1, [0, 0, 1, 1]));
  assert.equal(sent.length, 0);
  await sleep(30);
  assert.equal(sent.length, 1);
  assert.ok(changes >= 2, "queued and sent should both be reported");
});
