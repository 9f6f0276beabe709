import assert from "node:assert/strict";
import { test } from "node:test";
import { KeyChord, keyAction } from "../src/keyboard";

const key = (k: string, mods: Partial<KeyChord> = {}): KeyChord => ({ key: k, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...mods });

test("EXACT's editing keys map to their actions", () => {
  assert.deepEqual(keyAction(key("Delete")), { do: "delete" });
  assert.deepEqual(keyAction(key("x")), { do: "delete" });
  assert.deepEqual(keyAction(key("Escape")), { do: "cancel" });
  assert.deepEqual(keyAction(key("Enter")), { do: "confirm" });
  assert.deepEqual(keyAction(key("Backspace")), { do: "backspace" });
  assert.deepEqual(keyAction(key("c")), { do: "toggleDraw" });
  assert.deepEqual(keyAction(key("y")), { do: "toggleAnnotations" });
  assert.deepEqual(keyAction(key("f")), { do: "verify" });
  assert.deepEqual(keyAction(key("v")), { do: "verdict", verified: true });
  assert.deepEqual(keyAction(key("r")), { do: "verdict", verified: false });
  assert.deepEqual(keyAction(key("n")), { do: "review", delta: 1 });
  assert.deepEqual(keyAction(key("p")), { do: "review", delta: -1 });
  assert.deepEqual(keyAction(key("o")), { do: "openSource" });
});

test("Ctrl+Z undoes, Ctrl+Shift+Z and Ctrl+Y redo, also with the Mac's command key", () => {
  assert.deepEqual(keyAction(key("z", { ctrlKey: true })), { do: "undo" });
  assert.deepEqual(keyAction(key("Z", { ctrlKey: true, shiftKey: true })), { do: "redo" });
  assert.deepEqual(keyAction(key("y", { ctrlKey: true })), { do: "redo" });
  assert.deepEqual(keyAction(key("z", { metaKey: true })), { do: "undo" });
  assert.equal(keyAction(key("c", { ctrlKey: true })), null); // copy stays the browser's
});

test("q / e move through images, Shift+Q / Shift+E through frames", () => {
  assert.deepEqual(keyAction(key("q")), { do: "image", delta: -1 });
  assert.deepEqual(keyAction(key("e")), { do: "image", delta: 1 });
  assert.deepEqual(keyAction(key("Q", { shiftKey: true })), { do: "frame", delta: -1 });
  assert.deepEqual(keyAction(key("E", { shiftKey: true })), { do: "frame", delta: 1 });
});

test("t copies the selection to the next frame, Shift+T interpolates towards the keyframe partner", () => {
  assert.deepEqual(keyAction(key("t")), { do: "copyToNextFrame" });
  assert.deepEqual(keyAction(key("T", { shiftKey: true })), { do: "interpolate" });
  assert.equal(keyAction(key("t", { ctrlKey: true })), null); // a new tab stays the browser's
});

test("w a s d move a screen and mark it, i j k l move without marking", () => {
  assert.deepEqual(keyAction(key("w")), { do: "screen", dx: 0, dy: -1, mark: true });
  assert.deepEqual(keyAction(key("a")), { do: "screen", dx: -1, dy: 0, mark: true });
  assert.deepEqual(keyAction(key("s")), { do: "screen", dx: 0, dy: 1, mark: true });
  assert.deepEqual(keyAction(key("d")), { do: "screen", dx: 1, dy: 0, mark: true });
  assert.deepEqual(keyAction(key("i")), { do: "screen", dx: 0, dy: -1, mark: false });
  assert.deepEqual(keyAction(key("j")), { do: "screen", dx: -1, dy: 0, mark: false });
  assert.deepEqual(keyAction(key("k")), { do: "screen", dx: 0, dy: 1, mark: false });
  assert.deepEqual(keyAction(key("l")), { do: "screen", dx: 1, dy: 0, mark: false });
});

test("number keys pick a type; arrows pan, + and - zoom, Home fits", () => {
  for (const d of "0123456789") assert.deepEqual(keyAction(key(d)), { do: "type", key: d });
  assert.deepEqual(keyAction(key("ArrowLeft")), { do: "pan", dx: -0.1, dy: 0 });
  assert.deepEqual(keyAction(key("ArrowDown")), { do: "pan", dx: 0, dy: 0.1 });
  assert.deepEqual(keyAction(key("+")), { do: "zoom", dz: 0.5 });
  assert.deepEqual(keyAction(key("-")), { do: "zoom", dz: -0.5 });
  assert.deepEqual(keyAction(key("Home")), { do: "fit" });
});

test("keys with Alt, and keys without a meaning, do nothing", () => {
  assert.equal(keyAction(key("d", { altKey: true })), null);
  assert.equal(keyAction(key("b")), null);
  assert.equal(keyAction(key("F5")), null);
});
