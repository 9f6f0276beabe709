import assert from "node:assert/strict";
import { test } from "node:test";
import { MotionResolution, RES_STEPS } from "../src/viewer/motion";
import { sleep } from "./fakes";

function motion() {
  const applied: number[] = [];
  const m = new MotionResolution((s) => applied.push(s), 10);
  return { m, applied };
}

function frames(m: MotionResolution, ms: number | undefined, n: number): void {
  for (let i = 0; i < n; i++) m.frame(ms);
}

test("slow frames while moving step the resolution down, a few frames at a time, to the coarsest step", () => {
  const { m, applied } = motion();
  m.moved();
  assert.deepEqual(applied, []); // starts at full resolution
  frames(m, 40, 3);
  assert.equal(m.resolution, 1);
  frames(m, 40, 1);
  assert.equal(m.resolution, RES_STEPS[1]);
  assert.equal(m.lowRes, true);
  frames(m, 40, 20);
  assert.deepEqual(applied, RES_STEPS.slice(1));
  m.destroy();
});

test("frames that keep up change nothing; frames while still are not judged", () => {
  const { m, applied } = motion();
  frames(m, 100, 10); // not moving
  m.moved();
  frames(m, 16, 10);
  frames(m, undefined, 1); // the first frame ever has no interval
  assert.deepEqual(applied, []);
  m.destroy();
});

test("full resolution comes back when the view rests; the next movement starts at the step that kept up", async () => {
  const { m, applied } = motion();
  m.moved();
  frames(m, 40, 4);
  assert.equal(m.resolution, RES_STEPS[1]);
  frames(m, 20, 4); // kept up at this step, though not easily
  await sleep(40);
  assert.equal(m.resolution, 1);
  m.moved();
  assert.equal(m.resolution, RES_STEPS[1]);
  frames(m, 10, 4); // easily: the next movement tries a finer step
  await sleep(40);
  m.moved();
  assert.equal(m.resolution, 1);
  assert.deepEqual(applied, [RES_STEPS[1], 1, RES_STEPS[1], 1]);
  m.destroy();
});
