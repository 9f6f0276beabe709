// What the browser knows about the annotations of one widget: binary chunks from the kernel plus
// an overlay of shapes edited or created here (or pushed by the kernel one by one). One store per
// widget model, shared by all of its views.
import type { ChunkMsg, LayerMeta, Shape } from "../protocol";
import { Chunk } from "./chunk";
import { BBox, hitScore, intersects, pointInPolygon, shapeBBox, shapeCenter } from "../geometry";

export interface LayerData {
  key: string;
  chunks: Chunk[];
  /** shapes of this layer that live in the overlay, by id */
  overlay: Map<number, Shape>;
  /** bumped on any change to the layer's overlay */
  overlayVersion: number;
  /** bumped on any change at all (drives density maps and counts) */
  version: number;
}

/** What changed in the store, as its listeners are told. */
export type StoreEvent = "reset" | "chunk" | "done" | "upsert" | "remove" | "drop" | "selection" | "edit" | "preview";

export class AnnotationStore {
  gen = -1;
  layers = new Map<string, LayerData>();
  private ranges: Chunk[] = []; // sorted by idStart
  overlay = new Map<number, Shape>();
  selection = new Set<number>();
  selectionVersion = 0;
  version = 0;
  /** true once the kernel said every chunk of this generation has arrived */
  complete = false;
  private listeners = new Set<(what: StoreEvent) => void>();

  on(fn: (what: StoreEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(what: StoreEvent): void {
    this.version++;
    for (const fn of this.listeners) fn(what);
  }

  reset(gen: number): void {
    this.gen = gen;
    this.layers.clear();
    this.ranges = [];
    this.overlay.clear();
    this.selection.clear();
    this.selectionVersion++;
    this.complete = false;
    this.emit("reset");
  }

  layer(key: string): LayerData {
    let l = this.layers.get(key);
    if (!l) {
      l = { key, chunks: [], overlay: new Map(), overlayVersion: 0, version: 0 };
      this.layers.set(key, l);
    }
    return l;
  }

  addChunk(h: ChunkMsg, buffers: DataView[]): void {
    if (h.gen !== this.gen) return;
    const chunk = new Chunk(h, buffers);
    const l = this.layer(h.layer);
    l.chunks[h.chunk] = chunk;
    l.version++;
    // keep ranges sorted for id lookups; chunks arrive mostly in order
    let i = this.ranges.length;
    while (i > 0 && this.ranges[i - 1].idStart > chunk.idStart) i--;
    this.ranges.splice(i, 0, chunk);
    this.emit("chunk");
  }

  /** Forget a layer the kernel removed: its chunks, its shapes, and their part of the selection.
   * Returns true when the selection changed (the kernel should hear of it). */
  dropLayer(key: string): boolean {
    const l = this.layers.get(key);
    if (!l) return false;
    const kept = [...this.selection].filter((id) => this.layerOf(id) !== key);
    for (const id of l.overlay.keys()) this.overlay.delete(id);
    this.ranges = this.ranges.filter((c) => c.layer !== key);
    this.layers.delete(key);
    const selectionChanged = kept.length !== this.selection.size;
    if (selectionChanged) this.setSelection(kept);
    this.emit("drop");
    return selectionChanged;
  }

  private chunkOf(id: number): Chunk | null {
    let lo = 0, hi = this.ranges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const c = this.ranges[mid];
      if (id < c.idStart) hi = mid - 1;
      else if (id >= c.idStart + c.count) lo = mid + 1;
      else return c;
    }
    return null;
  }

  /** The current state of a shape, or null when it is deleted or unknown. */
  get(id: number): Shape | null {
    const o = this.overlay.get(id);
    if (o) return o;
    const c = this.chunkOf(id);
    if (!c) return null;
    const i = id - c.idStart;
    return c.isHidden(i) ? null : c.shape(i);
  }

  /** Set a shape's state (creating it, or replacing the chunk's copy). */
  put(s: Shape): void {
    const before = this.overlay.get(s.id);
    if (before && before.layer !== s.layer) this.touchOverlay(before.layer);
    const c = this.chunkOf(s.id);
    if (c) {
      c.setHidden(s.id - c.idStart, true);
      this.layer(c.layer).version++;
    }
    this.overlay.set(s.id, s);
    const l = this.layer(s.layer);
    l.overlay.set(s.id, s);
    if (before && before.layer !== s.layer) this.layer(before.layer).overlay.delete(s.id);
    this.touchOverlay(s.layer);
  }

  remove(id: number): void {
    const o = this.overlay.get(id);
    if (o) {
      this.overlay.delete(id);
      this.layer(o.layer).overlay.delete(id);
      this.touchOverlay(o.layer);
    }
    const c = this.chunkOf(id);
    if (c) {
      c.setHidden(id - c.idStart, true);
      this.layer(c.layer).version++;
    }
    if (this.selection.delete(id)) this.selectionVersion++;
  }

  private touchOverlay(key: string): void {
    const l = this.layer(key);
    l.overlayVersion++;
    l.version++;
  }

  layerOf(id: number): string | null {
    return this.get(id)?.layer ?? null;
  }

  setSelection(ids: Iterable<number>): void {
    this.selection = new Set(ids);
    this.selectionVersion++;
    this.emit("selection");
  }

  /** Number of live shapes in a layer. */
  count(key: string): number {
    const l = this.layers.get(key);
    if (!l) return 0;
    let n = l.overlay.size;
    for (const c of l.chunks) if (c) n += c.count - c.hiddenCount;
    return n;
  }

  /** Shapes of visible layers hit by a click, best first. */
  hit(x: number, y: number, tol: number, layers: LayerMeta[]): Shape[] {
    const found: [number, Shape][] = [];
    for (const meta of layers) {
      const l = this.layers.get(meta.key);
      if (!l) continue;
      const area = true;
      for (const c of l.chunks) {
        if (!c || !intersects([x - tol, y - tol, x + tol, y + tol], c.bbox)) continue;
        c.grid.query(x - tol, y - tol, x + tol, y + tol, (i) => {
          if (c.isHidden(i)) return;
          const b = c.bounds;
          if (x < b[4 * i] - tol || x > b[4 * i + 2] + tol || y < b[4 * i + 1] - tol || y > b[4 * i + 3] + tol) return;
          const s = c.shape(i);
          const score = hitScore(s, x, y, tol, meta.ellipse, area);
          if (score >= 0) found.push([score, s]);
        });
      }
      for (const s of l.overlay.values()) {
        const score = hitScore(s, x, y, tol, meta.ellipse, area);
        if (score >= 0) found.push([score, s]);
      }
    }
    found.sort((a, b) => a[0] - b[0]);
    return found.map((f) => f[1]);
  }

  /** Ids of live shapes in visible layers whose centre lies in the box (or lasso polygon). */
  within(box: BBox, layers: LayerMeta[], lasso?: number[]): number[] {
    const out: number[] = [];
    const inside = (cx: number, cy: number) =>
      cx >= box[0] && cx <= box[2] && cy >= box[1] && cy <= box[3] &&
      (!lasso || pointInPolygon(lasso, undefined, lasso.length / 2, cx, cy));
    for (const meta of layers) {
      const l = this.layers.get(meta.key);
      if (!l) continue;
      for (const c of l.chunks) {
        if (!c || !intersects(box, c.bbox)) continue;
        const b = c.bounds;
        c.grid.query(box[0], box[1], box[2], box[3], (i) => {
          if (c.isHidden(i)) return;
          if (inside((b[4 * i] + b[4 * i + 2]) / 2, (b[4 * i + 1] + b[4 * i + 3]) / 2)) out.push(c.idStart + i);
        });
      }
      for (const s of l.overlay.values()) {
        const [cx, cy] = shapeCenter(s);
        if (inside(cx, cy)) out.push(s.id);
      }
    }
    return out;
  }

  /** Visit the centre of every live shape of a layer (density maps). */
  forEachCenter(key: string, visit: (x: number, y: number) => void): void {
    const l = this.layers.get(key);
    if (!l) return;
    for (const c of l.chunks) {
      if (!c) continue;
      const b = c.bounds;
      for (let i = 0; i < c.count; i++) {
        if (c.hidden && c.hidden[i]) continue;
        visit((b[4 * i] + b[4 * i + 2]) * 0.5, (b[4 * i + 1] + b[4 * i + 3]) * 0.5);
      }
    }
    for (const s of l.overlay.values()) {
      const b = shapeBBox(s);
      visit((b[0] + b[2]) / 2, (b[1] + b[3]) / 2);
    }
  }
}
