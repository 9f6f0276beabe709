// The label image's tiles in the browser: fetched from the kernel over the comm (`mask_tile`)
// only when in view, kept coloured for deck.gl, painted into at once by the brush, and marked
// stale where the kernel says the committed labels changed (`mask_changed`).
import type { MaskTileReplyMsg, TypeMeta } from "../protocol";
import type { ViewerWidgetModel } from "../widget-model";
import { ClassColors } from "./colors";
import { DirtyLog } from "./dirty";
import { Dirty, LabelTarget, paintPolygon, paintStroke } from "./raster";

/** The kernel's tile size (exact_lab/masks/tiles.py TILE). */
export const MASK_TILE = 512;
/** Tiles kept: each is 1.25 MB (labels and colours), so ~150 MB at most. */
const MAX_TILES = 120;

export interface MaskTile {
  key: string;
  frame: number;
  level: number;
  col: number;
  row: number;
  width: number;
  height: number;
  labels: Uint8Array | Uint16Array | null;
  rgba: Uint8ClampedArray<ArrayBuffer> | null;
  /** the boxes of `rgba` changed, by version: each view uploads only those to its texture */
  changes: DirtyLog;
  /** any labelled pixel: empty tiles are not drawn */
  any: boolean;
  loading: boolean;
  stale: boolean;
  used: number;
}

/** The pyramid's highest level: the first at which the whole image fits in one tile (tiles.top_level). */
export function topLevel(width: number, height: number): number {
  let level = 0, size = Math.max(width, height, 1);
  while (size > MASK_TILE) {
    size = Math.floor((size + 1) / 2);
    level++;
  }
  return level;
}

/** The level drawn at `scale` screen pixels per level-0 pixel: at least one label per screen pixel. */
export function levelFor(scale: number, top: number): number {
  return Math.max(0, Math.min(top, Math.floor(Math.log2(1 / scale) + 1e-9)));
}

export class MaskTiles {
  private tiles = new Map<string, MaskTile>();
  private requests = new Map<number, string>();
  private nextReq = 1;
  private colors = new ClassColors([]);
  private clock = 0;
  /** the stroke being drawn (not sent yet): painted again into tiles that arrive meanwhile */
  active: { frame: number; level: number; points: number[]; radius: number; value: number } | null = null;
  /** tiles received (tests and benchmarks read this) */
  received = 0;

  constructor(private model: ViewerWidgetModel, private changed: () => void) {}

  setTypes(types: TypeMeta[]): void {
    this.colors = new ClassColors(types);
    for (const t of this.tiles.values()) this.recolor(t);
  }

  /** A new image: nothing cached is valid. */
  reset(): void {
    this.tiles.clear();
    this.requests.clear();
  }

  /** The tiles of `level` over the level-0 `bounds`, fetching the missing or stale ones. */
  visible(frame: number, level: number, bounds: [number, number, number, number], size: [number, number]): MaskTile[] {
    const span = MASK_TILE << level;
    const [w, h] = size;
    const c0 = Math.max(0, Math.floor(bounds[0] / span)), r0 = Math.max(0, Math.floor(bounds[1] / span));
    const c1 = Math.min(Math.ceil(w / span), Math.ceil(bounds[2] / span)), r1 = Math.min(Math.ceil(h / span), Math.ceil(bounds[3] / span));
    const out: MaskTile[] = [];
    this.clock++;
    for (let row = r0; row < r1; row++)
      for (let col = c0; col < c1; col++) {
        const t = this.tile(frame, level, col, row, w, h);
        t.used = this.clock;
        if ((t.stale || !t.labels) && !t.loading) this.request(t);
        out.push(t);
      }
    this.evict();
    return out;
  }

  /** The kernel committed labels inside `bbox` (level-0): tiles there are fetched again when shown. */
  invalidate(frame: number, bbox: [number, number, number, number]): void {
    for (const t of this.tiles.values()) {
      if (t.frame !== frame) continue;
      const span = MASK_TILE << t.level;
      const x0 = t.col * span, y0 = t.row * span;
      if (x0 < bbox[2] && x0 + span > bbox[0] && y0 < bbox[3] && y0 + span > bbox[1]) t.stale = true;
    }
    this.changed();
  }

  /** Paint a stroke (level-0 polyline and radius, class `value`) into the loaded tiles of `level`
   * at once; the kernel stores it and its answer replaces these tiles. */
  paint(frame: number, level: number, points: ArrayLike<number>, radius: number, value: number): void {
    this.paintInto(frame, level, points, radius, value, (target) => paintStroke(target, points, radius, value));
  }

  /** Fill the closed outline `ring` (level-0) with class `value` in the loaded tiles of `level`. */
  paintRegion(frame: number, level: number, ring: ArrayLike<number>, value: number): void {
    this.paintInto(frame, level, ring, 0, value, (target) => paintPolygon(target, ring, value));
  }

  /** Run `paint` on every loaded tile of `level` near the points' box (grown by `margin`). */
  private paintInto(frame: number, level: number, points: ArrayLike<number>, margin: number, value: number, paint: (t: LabelTarget) => Dirty): void {
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (let k = 0; k < points.length; k += 2) {
      x0 = Math.min(x0, points[k]);
      x1 = Math.max(x1, points[k]);
      y0 = Math.min(y0, points[k + 1]);
      y1 = Math.max(y1, points[k + 1]);
    }
    const span = MASK_TILE << level;
    for (const t of this.tiles.values()) {
      if (t.frame !== frame || t.level !== level || !t.labels || !t.rgba) continue;
      const tx = t.col * span, ty = t.row * span;
      if (tx > x1 + margin || tx + span < x0 - margin || ty > y1 + margin || ty + span < y0 - margin) continue;
      if (value > 255 && t.labels instanceof Uint8Array) t.labels = Uint16Array.from(t.labels);
      const dirty = paint({ data: t.labels, width: t.width, height: t.height, x0: tx, y0: ty, scale: 1 << level });
      if (!dirty) continue;
      this.colors.paint(t.labels, t.width, t.rgba, dirty);
      t.any = t.any || value !== 0;
      t.changes.mark(dirty);
    }
    this.changed();
  }

  /** The class shown at level-0 (x, y) by the loaded tile of `level` (null: not loaded). */
  labelAt(frame: number, level: number, x: number, y: number): number | null {
    const span = MASK_TILE << level;
    const col = Math.floor(x / span), row = Math.floor(y / span);
    const t = this.tiles.get(key(frame, level, col, row));
    if (!t?.labels) return null;
    const i = Math.floor((x - col * span) / (1 << level)), j = Math.floor((y - row * span) / (1 << level));
    return t.labels[j * t.width + i] ?? null;
  }

  receive(msg: MaskTileReplyMsg, buffers: DataView[]): void {
    const k = this.requests.get(msg.req);
    this.requests.delete(msg.req);
    const t = k ? this.tiles.get(k) : undefined;
    if (!t) return;
    t.loading = false;
    if (!msg.ok || !buffers[0]) {
      t.stale = false;
      if (!t.labels) this.fill(t, new Uint8Array(t.width * t.height));
      this.changed();
      return;
    }
    const b = buffers[0];
    const bytes = new Uint8Array(b.buffer, b.byteOffset, b.byteLength).slice();
    t.width = msg.width;
    t.height = msg.height;
    this.received++;
    this.fill(t, msg.itemsize === 2 ? new Uint16Array(bytes.buffer) : bytes);
    const a = this.active;
    if (a && a.frame === t.frame && a.level === t.level) this.paint(a.frame, a.level, a.points, a.radius, a.value);
    this.changed();
  }

  private fill(t: MaskTile, labels: Uint8Array | Uint16Array): void {
    t.labels = labels;
    t.rgba = new Uint8ClampedArray(t.width * t.height * 4);
    this.recolor(t);
  }

  private recolor(t: MaskTile): void {
    if (!t.labels || !t.rgba) return;
    let any = false;
    for (let i = 0; i < t.labels.length && !any; i++) any = t.labels[i] !== 0;
    t.any = any;
    if (any) this.colors.paint(t.labels, t.width, t.rgba, [0, 0, t.width, t.height]);
    else t.rgba.fill(0);
    t.changes.mark("all");
  }

  private tile(frame: number, level: number, col: number, row: number, w: number, h: number): MaskTile {
    const k = key(frame, level, col, row);
    let t = this.tiles.get(k);
    if (!t) {
      const span = MASK_TILE << level;
      const width = Math.ceil((Math.min(w, (col + 1) * span) - col * span) / (1 << level));
      const height = Math.ceil((Math.min(h, (row + 1) * span) - row * span) / (1 << level));
      t = { key: k, frame, level, col, row, width, height, labels: null, rgba: null, changes: new DirtyLog(), any: false, loading: false, stale: false, used: 0 };
      this.tiles.set(k, t);
    }
    return t;
  }

  private request(t: MaskTile): void {
    const req = this.nextReq++;
    t.loading = true;
    t.stale = false;
    this.requests.set(req, t.key);
    this.model.send({ type: "mask_tile", req, level: t.level, col: t.col, row: t.row, frame: t.frame });
  }

  private evict(): void {
    if (this.tiles.size <= MAX_TILES) return;
    const old = [...this.tiles.values()].filter((t) => t.used < this.clock && !t.loading).sort((a, b) => a.used - b.used);
    for (const t of old.slice(0, this.tiles.size - MAX_TILES)) this.tiles.delete(t.key);
  }
}

function key(frame: number, level: number, col: number, row: number): string {
  return `${frame}/${level}/${col}/${row}`;
}
