import assert from "node:assert/strict";
import { test } from "node:test";
import { cropRgba, DirtyLog } from "../src/masks/dirty";
import { MaskPainter } from "../src/masks/painter";
import { MaskTiles } from "../src/masks/tiles";
import { Camera } from "../src/camera";
import { MaskTextures, TextureSink } from "../src/render/mask-textures";
import { FakeModel, typeMeta } from "./fakes";

function reply(tiles: MaskTiles, req: number, width: number, height: number) {
  const labels = new Uint8Array(width * height);
  tiles.receive({ type: "mask_tile", req, ok: true, width, height, itemsize: 1 }, [new DataView(labels.buffer)]);
}

/** A texture store that records what was uploaded (the browser's is luma.gl). */
interface Recorded {
  id: number;
  width: number;
  height: number;
  pixels: Uint8ClampedArray;
}

class RecordingSink implements TextureSink<Recorded> {
  log: string[] = [];
  private next = 1;
  create(width: number, height: number): Recorded {
    this.log.push(`create ${width}x${height}`);
    return { id: this.next++, width, height, pixels: new Uint8ClampedArray(width * height * 4) };
  }
  writeAll(t: Recorded, rgba: Uint8ClampedArray) {
    this.log.push(`all #${t.id}`);
    t.pixels.set(rgba);
  }
  writeBox(t: Recorded, crop: Uint8ClampedArray, box: [number, number, number, number]) {
    this.log.push(`box #${t.id} ${box.join(",")}`);
    const w = box[2] - box[0];
    for (let j = box[1]; j < box[3]; j++) t.pixels.set(crop.subarray((j - box[1]) * w * 4, (j - box[1] + 1) * w * 4), (j * t.width + box[0]) * 4);
  }
  destroy(t: Recorded) {
    this.log.push(`destroy #${t.id}`);
  }
}

test("a dirty log gives each reader the union of the boxes changed since its version", () => {
  const log = new DirtyLog();
  assert.equal(log.since(0), null);
  log.mark([10, 10, 20, 20]);
  const a = log.version;
  log.mark([15, 5, 30, 12]);
  assert.deepEqual(log.since(0), [10, 5, 30, 20]);
  assert.deepEqual(log.since(a), [15, 5, 30, 12]);
  assert.equal(log.since(log.version), null);
  log.mark("all");
  assert.equal(log.since(a), "all");
});

test("a reader further behind than the boxes kept redraws the whole tile", () => {
  const log = new DirtyLog();
  for (let k = 0; k < 100; k++) log.mark([k, 0, k + 1, 1]);
  assert.equal(log.since(1), "all");
  assert.deepEqual(log.since(log.version - 2), [98, 0, 100, 1]);
});

test("cropping a box of an RGBA image packs its rows", () => {
  const rgba = new Uint8ClampedArray(4 * 3 * 4).map((_, i) => i); // 4 x 3 pixels
  const crop = cropRgba(rgba, 4, [1, 1, 3, 3]);
  // pixels (1,1), (2,1), (1,2), (2,2): byte offsets 20, 24, 36, 40
  assert.deepEqual([...crop].filter((_, i) => i % 4 === 0), [20, 24, 36, 40]);
});

test("a brush stroke uploads only the boxes it painted, to every view's texture of the tile", () => {
  const model = new FakeModel({ _types: [typeMeta(0, "tumour", "mask", { type_id: 4 })] });
  const tiles = new MaskTiles(model, () => {});
  tiles.setTypes(model.get("_types"));
  const [tile] = tiles.visible(0, 0, [0, 0, 512, 512], [512, 512]);
  reply(tiles, model.sentOf("mask_tile")[0].msg.req, 512, 512);
  const sinks = [new RecordingSink(), new RecordingSink()];
  const views = sinks.map((s) => new MaskTextures(s));
  for (const v of views) v.texture(tile);
  tiles.paint(0, 0, [100, 100, 120, 100], 5, 4);
  const first = views[0].texture(tile)!;
  const second = views[1];
  tiles.paint(0, 0, [120, 100, 140, 110], 5, 4);
  views[0].texture(tile);
  const other = second.texture(tile)!; // behind by both paints
  const boxes = (log: string[]) => log.filter((l) => l.startsWith("box")).map((l) => l.split(" ")[2].split(",").map(Number));
  assert.deepEqual(sinks[0].log.slice(0, 2), ["create 512x512", "all #1"]);
  const [b1, b2] = boxes(sinks[0].log);
  assert.equal(sinks[0].log.length, 4); // one box per paint, no whole-tile upload
  // the second view, behind by both paints, gets their union in one upload
  assert.deepEqual(boxes(sinks[1].log), [[Math.min(b1[0], b2[0]), Math.min(b1[1], b2[1]), Math.max(b1[2], b2[2]), Math.max(b1[3], b2[3])]]);
  const area = (b: number[]) => (b[2] - b[0]) * (b[3] - b[1]);
  assert.ok(area(b1) + area(b2) < 0.01 * 512 * 512, `boxes ${b1} ${b2}`);
  // what each texture holds is the tile's colours
  assert.deepEqual(first.pixels, tile.rgba);
  assert.deepEqual(other.pixels, tile.rgba);
  assert.equal(views[0].texture(tile), first); // nothing changed: the same texture, no upload
  assert.equal(sinks[0].log.length, 4);
});

test("textures of tiles no longer drawn are released after a while", () => {
  const model = new FakeModel();
  const tiles = new MaskTiles(model, () => {});
  const [tile] = tiles.visible(0, 0, [0, 0, 512, 512], [512, 512]);
  reply(tiles, model.sentOf("mask_tile")[0].msg.req, 512, 512);
  const sink = new RecordingSink();
  const textures = new MaskTextures(sink);
  textures.frame();
  textures.texture(tile);
  for (let k = 0; k < 40; k++) textures.frame();
  assert.equal(sink.log.at(-1), "destroy #1");
});

test("brush moves are painted at the frame, as one polyline, with the pixels of one segment at a time", () => {
  const setup = () => {
    const model = new FakeModel();
    const tiles = new MaskTiles(model, () => {});
    tiles.visible(0, 0, [0, 0, 512, 512], [512, 512]);
    reply(tiles, model.sentOf("mask_tile")[0].msg.req, 512, 512);
    const painter = new MaskPainter({
      camera: new Camera(), tiles, frame: () => 0, imageSize: () => [512, 512],
      maskType: () => typeMeta(0, "tumour", "mask", { type_id: 4 }), radius: () => 6, hasSuperpixels: () => false,
      send: () => {}, message: () => {},
    });
    return { tiles, painter };
  };
  const at = (x: number, y: number) => ({ sx: x, sy: y, x, y, shift: false, alt: false, ctrl: false });
  const path = [[100, 100], [130, 104], [160, 120], [170, 150], [150, 170]];
  const coalesced = setup(), each = setup();
  coalesced.painter.down("brush", at(100, 100), 0);
  each.painter.down("brush", at(100, 100), 0);
  const paints = () => coalesced.tiles.visible(0, 0, [0, 0, 512, 512], [512, 512])[0].changes.version;
  const before = paints();
  for (const [x, y] of path.slice(1, 3)) coalesced.painter.move(at(x, y));
  assert.equal(coalesced.tiles.labelAt(0, 0, 130, 104), 0); // not painted before the frame
  coalesced.painter.flush();
  assert.equal(paints(), before + 1); // two moves, one paint
  assert.equal(coalesced.tiles.labelAt(0, 0, 130, 104), 4);
  for (const [x, y] of path.slice(3)) coalesced.painter.move(at(x, y));
  coalesced.painter.up(at(150, 170)); // the release paints what the last frame did not
  for (const [x, y] of path.slice(1)) {
    each.painter.move(at(x, y));
    each.painter.flush();
  }
  each.painter.up(at(150, 170));
  const a = coalesced.tiles.visible(0, 0, [0, 0, 512, 512], [512, 512])[0].labels!;
  const b = each.tiles.visible(0, 0, [0, 0, 512, 512], [512, 512])[0].labels!;
  assert.ok(a.some((v) => v === 4));
  assert.deepEqual(a, b);
});

test("each frame's flush gives a level-0 box holding every pixel it painted (the part of the canvas redrawn)", () => {
  const model = new FakeModel();
  const tiles = new MaskTiles(model, () => {});
  tiles.visible(0, 0, [0, 0, 512, 512], [512, 512]);
  reply(tiles, model.sentOf("mask_tile")[0].msg.req, 512, 512);
  const painter = new MaskPainter({
    camera: new Camera(), tiles, frame: () => 0, imageSize: () => [512, 512],
    maskType: () => typeMeta(0, "tumour", "mask", { type_id: 4 }), radius: () => 7.5, hasSuperpixels: () => false,
    send: () => {}, message: () => {},
  });
  const at = (x: number, y: number) => ({ sx: x, sy: y, x, y, shift: false, alt: false, ctrl: false });
  const labels = () => tiles.visible(0, 0, [0, 0, 512, 512], [512, 512])[0].labels!;
  const frames = [[[200.5, 200.5]], [[230, 210], [260, 240]], [[250, 300]]];
  painter.down("brush", at(200.5, 200.5), 0);
  let before = Uint8Array.from(labels());
  for (const [k, moves] of frames.entries()) {
    for (const [x, y] of moves.slice(k === 0 ? 1 : 0)) painter.move(at(x, y));
    const box = painter.flush();
    assert.ok(box, `frame ${k} painted`);
    const now = labels();
    let changed = 0;
    for (let j = 0; j < 512; j++)
      for (let i = 0; i < 512; i++) {
        if (now[j * 512 + i] === before[j * 512 + i]) continue;
        changed++;
        // the pixel's whole square lies in the box
        assert.ok(i >= box[0] && i + 1 <= box[2] && j >= box[1] && j + 1 <= box[3], `frame ${k}: (${i}, ${j}) outside ${box}`);
      }
    assert.ok(changed > 0, `frame ${k} changed pixels`);
    before = Uint8Array.from(now);
  }
  assert.equal(painter.flush(), null); // nothing new: nothing to redraw
});
