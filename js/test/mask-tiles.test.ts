import assert from "node:assert/strict";
import { test } from "node:test";
import { MaskTiles } from "../src/masks/tiles";
import { FakeModel, typeMeta } from "./fakes";

// Node has no ImageData: the tiles only hand it to deck.gl, so a plain holder does
(globalThis as any).ImageData ??= class {
  constructor(public data: Uint8ClampedArray, public width: number, public height: number) {}
};

function reply(tiles: MaskTiles, req: number, width: number, height: number, fill = 0) {
  const labels = new Uint8Array(width * height).fill(fill);
  tiles.receive({ type: "mask_tile", req, ok: true, width, height, itemsize: 1 }, [new DataView(labels.buffer)]);
}

test("only the tiles in view are asked for, once, and cut at the image's edge", () => {
  const model = new FakeModel();
  const tiles = new MaskTiles(model, () => {});
  // a 1,300 x 700 image, the view over level-0 (100, 100)-(600, 400): tiles (0, 0) and (1, 0)
  const shown = tiles.visible(0, 0, [100, 100, 600, 400], [1300, 700]);
  assert.deepEqual(shown.map((t) => [t.col, t.row, t.width, t.height]), [[0, 0, 512, 512], [1, 0, 512, 512]]);
  tiles.visible(0, 0, [100, 100, 600, 400], [1300, 700]);
  assert.deepEqual(model.sentOf("mask_tile").map((s) => [s.msg.level, s.msg.col, s.msg.row]), [[0, 0, 0], [0, 1, 0]]);
  // level 1 over the whole image: 650 x 350 values, two tiles, the second 138 wide
  const l1 = tiles.visible(0, 1, [0, 0, 1300, 700], [1300, 700]);
  assert.deepEqual(l1.map((t) => [t.col, t.row, t.width, t.height]), [[0, 0, 512, 350], [1, 0, 138, 350]]);
});

test("a stroke paints the loaded tiles at once; mask_changed makes only the tiles it covers stale", () => {
  const model = new FakeModel({ _types: [typeMeta(0, "tumour", "mask", { type_id: 4 })] });
  let changes = 0;
  const tiles = new MaskTiles(model, () => changes++);
  tiles.setTypes(model.get("_types"));
  tiles.visible(0, 0, [0, 0, 1024, 512], [2000, 2000]);
  const [a, b] = model.sentOf("mask_tile").map((s) => s.msg.req);
  reply(tiles, a, 512, 512);
  reply(tiles, b, 512, 512);
  assert.equal(tiles.labelAt(0, 0, 500, 100), 0);
  tiles.paint(0, 0, [490, 100, 530, 100], 5, 4); // across the two tiles
  assert.equal(tiles.labelAt(0, 0, 500, 100), 4);
  assert.equal(tiles.labelAt(0, 0, 525, 103), 4);
  assert.equal(tiles.labelAt(0, 0, 525, 106), 0);
  const [t0] = tiles.visible(0, 0, [0, 0, 512, 512], [2000, 2000]);
  assert.equal(t0.any, true);
  assert.deepEqual([...t0.rgba!.subarray((100 * 512 + 500) * 4, (100 * 512 + 500) * 4 + 4)].slice(3), [255]);
  const before = model.sentOf("mask_tile").length;
  tiles.invalidate(0, [600, 0, 700, 50]); // inside tile (1, 0) only
  tiles.visible(0, 0, [0, 0, 1024, 512], [2000, 2000]);
  const again = model.sentOf("mask_tile").slice(before).map((s) => [s.msg.col, s.msg.row]);
  assert.deepEqual(again, [[1, 0]]);
  assert.ok(changes > 0);
});

test("a tile arriving while a stroke is drawn gets the stroke painted in", () => {
  const model = new FakeModel();
  const tiles = new MaskTiles(model, () => {});
  tiles.visible(0, 0, [0, 0, 512, 512], [512, 512]);
  tiles.active = { frame: 0, level: 0, points: [100, 100, 200, 100], radius: 3, value: 2 };
  reply(tiles, model.sentOf("mask_tile")[0].msg.req, 512, 512);
  assert.equal(tiles.labelAt(0, 0, 150, 101), 2);
  assert.equal(tiles.labelAt(0, 0, 150, 110), 0);
});

test("the fill tool paints the outline's inside at once on release and sends it; a click sends nothing", async () => {
  const { MaskPainter } = await import("../src/masks/painter");
  const { Camera } = await import("../src/camera");
  const model = new FakeModel();
  const tiles = new MaskTiles(model, () => {});
  tiles.visible(0, 0, [0, 0, 1024, 512], [2000, 2000]);
  for (const s of model.sentOf("mask_tile")) reply(tiles, s.msg.req, 512, 512);
  const sent: [string, number, number[]][] = [];
  const messages: string[] = [];
  const camera = new Camera();
  const painter = new MaskPainter({
    camera, tiles, frame: () => 0, imageSize: () => [2000, 2000],
    maskType: () => typeMeta(0, "tumour", "mask", { type_id: 4 }), radius: () => 10, hasSuperpixels: () => false,
    send: (kind, value, points) => sent.push([kind, value, points]), message: (text) => messages.push(text),
  });
  const at = (x: number, y: number) => ({ sx: x, sy: y, x, y, shift: false, alt: false, ctrl: false });
  painter.down("fill", at(400, 100), 0);
  for (const [x, y] of [[700, 100], [700, 300], [400, 300]]) painter.move(at(x, y));
  assert.equal(painter.draft()?.kind, "lasso");
  assert.equal(tiles.labelAt(0, 0, 500, 200), 0); // nothing before the outline is closed
  painter.up(at(400, 100));
  assert.equal(painter.draft(), null);
  assert.equal(tiles.labelAt(0, 0, 500, 200), 4); // tile (0, 0)
  assert.equal(tiles.labelAt(0, 0, 650, 250), 4); // tile (1, 0)
  assert.equal(tiles.labelAt(0, 0, 350, 200), 0);
  assert.deepEqual(sent, [["mask_polygon", 4, [400, 100, 700, 100, 700, 300, 400, 300, 400, 100]]]);
  painter.down("fill", at(450, 150), 2); // right button: erase
  for (const [x, y] of [[550, 150], [550, 250], [450, 250]]) painter.move(at(x, y));
  painter.up(at(450, 150));
  assert.equal(tiles.labelAt(0, 0, 500, 200), 0);
  assert.equal(tiles.labelAt(0, 0, 650, 250), 4);
  assert.equal(sent[1][0], "mask_polygon");
  assert.equal(sent[1][1], 0);
  painter.down("fill", at(800, 100), 0);
  painter.up(at(800, 100));
  assert.equal(sent.length, 2);
  assert.match(messages[0], /drag an outline/);
});
