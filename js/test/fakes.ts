// Stand-ins for the widget's surroundings: an anywidget model holding traits (and recording what
// the browser sends), and the kernel's messages built the way exact_lab/widgets/encode.py packs
// them.
import type { ChunkMsg, Kind, LayerMeta, SourceMeta, ToBrowser, ToKernel, TypeMeta } from "../src/protocol";
import { ESCAPE, STEP_SCALE } from "../src/data/steps";
import type { ChangeEvent, ViewerTraits, ViewerWidgetModel, WireBuffer } from "../src/widget-model";

export const SOURCE: SourceMeta = {
  name: "test slide", width: 10000, height: 8000, max_level: 14, tile_size: 254, overlap: 1, format: "jpeg",
  mpp: 0.25, objective_power: 40, frames: 3, hash: null, path: null, abs_path: null, token: null, comm: false, error: null,
};

export function layerMeta(key: string, change: Partial<LayerMeta> = {}): LayerMeta {
  return {
    key, name: key, source: key.startsWith("t:") ? "type" : "user", type_index: null, vector_type: null, color: "#ff0000",
    visible: true, opacity: 1, editable: true, line_width: 1.5, fill_opacity: 0, point_radius: 4, ellipse: false, count: 0, ...change,
  };
}

export function typeMeta(index: number, name: string, vectorType: string, change: Partial<TypeMeta> = {}): TypeMeta {
  return {
    index, type_id: index + 1, name, vector_type: vectorType, color: "#00ff00", default_width: null, default_height: null,
    key: String(index + 1), layer: `t:${index + 1}`, ...change,
  };
}

export interface Sent {
  msg: ToKernel;
  buffers: ArrayBuffer[];
}

export class FakeModel implements ViewerWidgetModel {
  sent: Sent[] = [];
  saves = 0;
  private traits: ViewerTraits;
  private changes = new Map<string, Set<() => void>>();
  private custom = new Set<(msg: ToBrowser, buffers?: WireBuffer[]) => void>();

  constructor(traits: Partial<ViewerTraits> = {}) {
    this.traits = {
      _source: SOURCE, _types: [], _layers: [], _goto: null, _transport_active: "", _screening: {}, _review: {}, _strip: [], _panel: "", _hpf: {},
      transport: "auto", tool: "pan",
      frame: 0, view: {}, brightness: 0, contrast: 1, gamma: 1, channels: [true, true, true], annotations_visible: true,
      editable: true, height: "600px", mask_opacity: 0.5, brush_radius: 20, brush_units: "image", _superpixel_methods: {}, ...traits,
    };
  }

  get<K extends keyof ViewerTraits>(key: K): ViewerTraits[K] {
    return this.traits[key];
  }

  /** Like Backbone's model: a change event only when the value changes. */
  set<K extends keyof ViewerTraits>(key: K, value: ViewerTraits[K]): void {
    const changed = JSON.stringify(this.traits[key]) !== JSON.stringify(value);
    this.traits[key] = value;
    if (changed) for (const fn of this.changes.get(`change:${String(key)}`) ?? []) fn();
  }

  save_changes(): void {
    this.saves++;
  }

  on(event: "msg:custom", callback: (msg: ToBrowser, buffers?: WireBuffer[]) => void): void;
  on(event: ChangeEvent<ViewerTraits>, callback: () => void): void;
  on(event: string, callback: (msg: ToBrowser, buffers?: WireBuffer[]) => void): void {
    if (event === "msg:custom") {
      this.custom.add(callback);
      return;
    }
    if (!this.changes.has(event)) this.changes.set(event, new Set());
    this.changes.get(event)!.add(callback as () => void);
  }

  off(event: ChangeEvent<ViewerTraits>, callback: () => void): void {
    this.changes.get(event)?.delete(callback);
  }

  send(content: ToKernel, _callbacks?: undefined, buffers: ArrayBuffer[] = []): void {
    this.sent.push({ msg: content, buffers });
  }

  /** A message from the kernel, with its buffers as DataViews (as JupyterLab hands them). */
  deliver(msg: ToBrowser, buffers: ArrayBuffer[] = []): void {
    for (const fn of this.custom) fn(msg, buffers.map((b) => new DataView(b)));
  }

  /** The messages of one type the browser sent, in order. */
  sentOf<T extends ToKernel["type"]>(type: T): (Sent & { msg: Extract<ToKernel, { type: T }> })[] {
    return this.sent.filter((s): s is Sent & { msg: Extract<ToKernel, { type: T }> } => s.msg.type === type);
  }

  listenerCount(event: ChangeEvent<ViewerTraits>): number {
    return this.changes.get(event)?.size ?? 0;
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// -- the kernel's chunks ---------------------------------------------------------------------------
export interface ChunkOptions {
  gen?: number;
  batch?: number;
  chunk?: number;
}

function chunkMsg(layer: string, kind: Kind, count: number, idStart: number, xy: ArrayLike<number>, o: ChunkOptions): ChunkMsg {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (let i = 0; i < xy.length; i += 2) {
    x0 = Math.min(x0, xy[i]);
    x1 = Math.max(x1, xy[i]);
    y0 = Math.min(y0, xy[i + 1]);
    y1 = Math.max(y1, xy[i + 1]);
  }
  return { type: "chunk", gen: o.gen ?? 0, batch: o.batch ?? 1, layer, chunk: o.chunk ?? 0, kind, count, id_start: idStart, bbox: [x0, y0, x1, y1] };
}

/** Boxes [xmin, ymin, xmax, ymax] as one chunk: the message and its buffers. */
export function boxChunk(layer: string, idStart: number, boxes: number[][], o: ChunkOptions = {}): [ChunkMsg, ArrayBuffer[]] {
  const coords = Float32Array.from(boxes.flat());
  return [chunkMsg(layer, "box", boxes.length, idStart, coords, o), [coords.buffer]];
}

export function pointChunk(layer: string, idStart: number, points: number[][], o: ChunkOptions = {}): [ChunkMsg, ArrayBuffer[]] {
  const coords = Float32Array.from(points.flat());
  return [chunkMsg(layer, "point", points.length, idStart, coords, o), [coords.buffer]];
}

/** Paths of flat vertices [x0, y0, x1, y1, ...]: coordinates and a vertex offset per path. */
export function pathChunk(layer: string, idStart: number, paths: number[][], o: ChunkOptions = {}): [ChunkMsg, ArrayBuffer[]] {
  const coords = Float32Array.from(paths.flat());
  const offsets = new Uint32Array(paths.length + 1);
  paths.forEach((p, i) => (offsets[i + 1] = offsets[i] + p.length / 2));
  return [chunkMsg(layer, "path", paths.length, idStart, coords, o), [coords.buffer, offsets.buffer]];
}

/** Polygons as rings of flat vertices, sent as the kernel does: run starts, a vertex offset per
 * ring, a ring offset per polygon, int16 steps rounded from the run's start (a step over 32 px
 * starts a run). */
export function polygonChunk(layer: string, idStart: number, polygons: number[][][], o: ChunkOptions = {}): [ChunkMsg, ArrayBuffer[]] {
  const rings = polygons.flat();
  const coords = Float32Array.from(rings.flat());
  const ringOffsets = new Uint32Array(rings.length + 1);
  rings.forEach((r, i) => (ringOffsets[i + 1] = ringOffsets[i] + r.length / 2));
  const geomOffsets = new Uint32Array(polygons.length + 1);
  polygons.forEach((p, i) => (geomOffsets[i + 1] = geomOffsets[i] + p.length));
  const starts: number[] = [], steps: number[] = [];
  for (const r of rings) {
    let bx = Math.fround(r[0]), by = Math.fround(r[1]), qx = 0, qy = 0;
    starts.push(bx, by);
    for (let v = 2; v < r.length; v += 2) {
      const nx = Math.round((r[v] - bx) * STEP_SCALE), ny = Math.round((r[v + 1] - by) * STEP_SCALE);
      if (Math.abs(nx - qx) > 32767 || Math.abs(ny - qy) > 32767) {
        (bx = Math.fround(r[v])), (by = Math.fround(r[v + 1])), (qx = qy = 0);
        starts.push(bx, by);
        steps.push(ESCAPE, 0);
      } else {
        steps.push(nx - qx, ny - qy);
        (qx = nx), (qy = ny);
      }
    }
  }
  const msg = chunkMsg(layer, "polygon", polygons.length, idStart, coords, o);
  return [msg, [Float32Array.from(starts).buffer, ringOffsets.buffer, geomOffsets.buffer, Int16Array.from(steps).buffer]];
}

export const views = (buffers: ArrayBuffer[]) => buffers.map((b) => new DataView(b));
