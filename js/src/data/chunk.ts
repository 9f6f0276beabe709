// A chunk: one binary slice of one layer as the kernel sent it. Arrays are used as they arrived
// (no per-shape objects); shapes edited in the browser are hidden here and live in the overlay.
import type { ChunkMsg, Kind, Shape } from "../protocol";
import { typedArray } from "./buffers";
import { GridIndex } from "./grid";
import { decodeRings } from "./steps";

/** Shapes per slice: small enough that a view at full resolution touches few of them. */
export const SLICE = 1024;
/** ... and at most this many vertices per slice of lines and outlines (a slice's cost is its
 * segments: 1,024 cell outlines of 17 vertices drew 16 times the work of 1,024 boxes). */
export const SLICE_VERTICES = 4096;

export interface Slice {
  start: number;
  end: number;
  bbox: [number, number, number, number];
}

export class Chunk {
  readonly layer: string;
  readonly index: number;
  readonly kind: Kind;
  readonly count: number;
  readonly idStart: number;
  readonly bbox: [number, number, number, number];
  /** box: 4 per shape; point: 2 per shape; path/polygon: vertices (polygon: decoded from steps) */
  readonly coords: Float32Array;
  /** path: vertex offset per shape (count + 1); polygon: vertex offset per ring */
  readonly offsets: Uint32Array | null;
  /** polygon: ring offset per shape (count + 1) */
  readonly geomOffsets: Uint32Array | null;
  hidden: Uint8Array | null = null;
  hiddenCount = 0;
  /** bumped whenever what is drawn changes, so render caches know when to rebuild */
  version = 0;
  private _bounds: Float32Array | null = null;
  private _grid: GridIndex | null = null;

  constructor(h: ChunkMsg, buffers: DataView[]) {
    this.layer = h.layer;
    this.index = h.chunk;
    this.kind = h.kind;
    this.count = h.count;
    this.idStart = h.id_start;
    this.bbox = h.bbox;
    // views over the message's buffers as they arrived (copied only where the kernel sent them unaligned)
    this.offsets = buffers[1] ? typedArray(Uint32Array, buffers[1]) : null;
    this.geomOffsets = buffers[2] ? typedArray(Uint32Array, buffers[2]) : null;
    this.coords =
      h.kind === "polygon"
        ? decodeRings(typedArray(Float32Array, buffers[0]), typedArray(Int16Array, buffers[3]), this.offsets!)
        : typedArray(Float32Array, buffers[0]);
  }

  has(id: number): boolean {
    return id >= this.idStart && id < this.idStart + this.count;
  }

  isHidden(i: number): boolean {
    return this.hidden !== null && this.hidden[i] === 1;
  }

  setHidden(i: number, value: boolean): void {
    if (!this.hidden) {
      if (!value) return;
      this.hidden = new Uint8Array(this.count);
    }
    const v = value ? 1 : 0;
    if (this.hidden[i] === v) return;
    this.hidden[i] = v;
    this.hiddenCount += value ? 1 : -1;
    this.version++;
  }

  /** Per-shape bounding boxes [xmin, ymin, xmax, ymax] * count (boxes: the data itself). */
  get bounds(): Float32Array {
    if (this._bounds) return this._bounds;
    if (this.kind === "box") return (this._bounds = this.coords);
    const out = new Float32Array(this.count * 4);
    const c = this.coords;
    if (this.kind === "point") {
      for (let i = 0; i < this.count; i++) {
        out[4 * i] = out[4 * i + 2] = c[2 * i];
        out[4 * i + 1] = out[4 * i + 3] = c[2 * i + 1];
      }
    } else {
      for (let i = 0; i < this.count; i++) {
        const [v0, v1] = this.vertexRange(i);
        let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
        for (let v = v0; v < v1; v++) {
          const x = c[2 * v], y = c[2 * v + 1];
          if (x < x0) x0 = x;
          if (x > x1) x1 = x;
          if (y < y0) y0 = y;
          if (y > y1) y1 = y;
        }
        out[4 * i] = x0; out[4 * i + 1] = y0; out[4 * i + 2] = x1; out[4 * i + 3] = y1;
      }
    }
    return (this._bounds = out);
  }

  private _slices: Slice[] | null = null;

  /** Consecutive runs of shapes that are also compact on the slide (the kernel orders shapes
   * along a Hilbert curve): the unit of culling, so only what the view holds is drawn. */
  get slices(): Slice[] {
    if (this._slices) return this._slices;
    const out: Slice[] = [];
    const b = this.bounds;
    const vertexBound = this.kind === "path" || this.kind === "polygon";
    for (let start = 0, end = 0; start < this.count; start = end) {
      end = Math.min(this.count, start + SLICE);
      if (vertexBound) {
        const v0 = this.vertexRange(start)[0];
        let e = start + 1;
        while (e < end && this.vertexRange(e)[1] - v0 <= SLICE_VERTICES) e++;
        end = e;
      }
      let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
      for (let i = start; i < end; i++) {
        if (b[4 * i] < x0) x0 = b[4 * i];
        if (b[4 * i + 1] < y0) y0 = b[4 * i + 1];
        if (b[4 * i + 2] > x1) x1 = b[4 * i + 2];
        if (b[4 * i + 3] > y1) y1 = b[4 * i + 3];
      }
      out.push({ start, end, bbox: [x0, y0, x1, y1] });
    }
    return (this._slices = out);
  }

  private _typical = -1;

  /** Typical shape size (median of the larger side over a sample), in level-0 pixels. */
  get typicalSize(): number {
    if (this._typical >= 0) return this._typical;
    const b = this.bounds;
    const step = Math.max(1, Math.floor(this.count / 255));
    const sizes: number[] = [];
    for (let i = 0; i < this.count; i += step) sizes.push(Math.max(b[4 * i + 2] - b[4 * i], b[4 * i + 3] - b[4 * i + 1]));
    sizes.sort((x, y) => x - y);
    return (this._typical = sizes.length ? sizes[sizes.length >> 1] : 0);
  }

  get grid(): GridIndex {
    if (!this._grid) this._grid = new GridIndex(this.bounds, this.count, this.bbox);
    return this._grid;
  }

  /** Vertex range [start, end) of shape i (path and polygon kinds). */
  vertexRange(i: number): [number, number] {
    if (this.kind === "path") return [this.offsets![i], this.offsets![i + 1]];
    const g = this.geomOffsets!;
    return [this.offsets![g[i]], this.offsets![g[i + 1]]];
  }

  /** Shape i as an editable object (a copy). */
  shape(i: number): Shape {
    const id = this.idStart + i;
    const c = this.coords;
    switch (this.kind) {
      case "box":
        return { id, layer: this.layer, kind: "box", coords: [c[4 * i], c[4 * i + 1], c[4 * i + 2], c[4 * i + 3]] };
      case "point":
        return { id, layer: this.layer, kind: "point", coords: [c[2 * i], c[2 * i + 1]] };
      case "path": {
        const [v0, v1] = this.vertexRange(i);
        return { id, layer: this.layer, kind: "path", coords: Array.from(c.subarray(2 * v0, 2 * v1)) };
      }
      case "polygon": {
        const g = this.geomOffsets!, o = this.offsets!;
        const r0 = g[i], r1 = g[i + 1];
        const v0 = o[r0], v1 = o[r1];
        const rings: number[] = [];
        for (let r = r0; r < r1; r++) rings.push(o[r] - v0);
        return { id, layer: this.layer, kind: "polygon", coords: Array.from(c.subarray(2 * v0, 2 * v1)), rings: rings.length > 1 ? rings : undefined };
      }
    }
  }
}
