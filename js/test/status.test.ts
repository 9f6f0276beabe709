import assert from "node:assert/strict";
import { test } from "node:test";
import { NOTICE_MS, StatusInput, statusTexts } from "../src/viewer/status";

const base: StatusInput = {
  scale: 0.0726, objectivePower: 40, mpp: 0.25, cursor: null, annotations: 1234567, density: false, complete: true,
  selected: 0, tiles: "server", tileError: false, failedTiles: 0, unsent: 0, saved: true, notice: null, now: 100_000,
};

test("the zoom shows the scale and the objective it matches", () => {
  assert.equal(statusTexts(base).zoom, "zoom 0.073 (2.9×)");
  assert.equal(statusTexts({ ...base, scale: 2, objectivePower: null }).zoom, "zoom 2.00");
});

test("the cursor shows in pixels, and in microns when the slide knows its resolution", () => {
  assert.equal(statusTexts(base).cursor, "");
  assert.equal(statusTexts({ ...base, cursor: { x: 1000.4, y: 20.6 } }).cursor, "x 1000 y 21 px · 250.1, 5.2 µm");
  assert.equal(statusTexts({ ...base, mpp: null, cursor: { x: 1, y: 2 } }).cursor, "x 1 y 2 px");
});

test("counts say when a layer is a density map and while chunks are arriving", () => {
  assert.equal(statusTexts(base).counts, `${(1234567).toLocaleString()} annotations`);
  assert.equal(statusTexts({ ...base, annotations: 5, density: true, complete: false }).counts, "5 annotations (density) (loading…)");
  assert.equal(statusTexts({ ...base, selected: 3 }).selection, "3 selected");
  assert.equal(statusTexts(base).selection, "");
});

test("where tiles come from, and how many failed", () => {
  assert.equal(statusTexts(base).transport, "tiles: server");
  assert.equal(statusTexts({ ...base, tiles: "comm", failedTiles: 2 }).transport, "tiles: comm (2 failed)");
  assert.equal(statusTexts({ ...base, tiles: null }).transport, "tiles: …");
  assert.equal(statusTexts({ ...base, tiles: null, tileError: true }).transport, "tiles: none");
});

test("edits read saving until acknowledged, committing until the store has them", () => {
  assert.equal(statusTexts({ ...base, unsent: 1 }).saved, "saving…");
  assert.equal(statusTexts({ ...base, saved: false }).saved, "committing…");
  assert.equal(statusTexts(base).saved, "saved");
});

test("a notice shows for a while, then goes", () => {
  const notice = { text: "undo move", level: "info" as const, at: base.now - NOTICE_MS + 1 };
  assert.deepEqual(statusTexts({ ...base, notice }).msg, { text: "undo move", level: "info" });
  assert.equal(statusTexts({ ...base, notice: { ...notice, at: base.now - NOTICE_MS } }).msg, null);
});
