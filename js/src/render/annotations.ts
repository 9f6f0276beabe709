// deck.gl layers for the annotations: binary layers per slice of a chunk (boxes, and points as
// circles, two plain triangles each; paths and polygon outlines segment by segment; polygon fills
// as triangles cut per slice), the overlay of edited shapes, density maps when zoomed out, and the
// selection highlight.
import type { Layer } from "@deck.gl/core";
import { BitmapLayer, PathLayer, ScatterplotLayer } from "@deck.gl/layers";
import type { Chunk } from "../data/chunk";
import type { AnnotationStore, LayerData } from "../data/store";
import type { LayerMeta, Shape } from "../protocol";
import { BoxLayer } from "./box-layer";
import { SegmentLayer } from "./segment-layer";
import { FillLayer } from "./fill-layer";
import { FanLayer } from "./fan-layer";
import { buildFans, Fans } from "./fans";
import { triangulate, triangulateShapes } from "./triangulate";
import { hexToRgba, RGBA, SELECTED, SELECTED_FILL } from "./colors";
import { buildDensity, densityCell, DensityMap } from "./density";
import { intersects } from "../geometry";

/** Above this many shapes of one layer in view, the layer is drawn as a density map. */
export const DENSITY_LIMIT = 100_000;
/** ... and above this many when they are smaller than a pixel or two on screen: dots that
 * small show where shapes are, which the density map shows better and far cheaper. */
export const DENSITY_LIMIT_TINY = 5_000;
const TINY_PX = 1.5;

export interface ViewBox {
  bounds: [number, number, number, number];
  scale: number; // screen pixels per level-0 pixel
}

type Binary = { length: number; startIndices?: Uint32Array; attributes: Record<string, { value: Float32Array; size: number }> };

/** A slice of a polygon chunk as drawn: fans, and the shapes that are not fans the general way. */
interface PolygonSlice {
  fans: Fans;
  restFill: Float32Array | null; // earcut triangles
  restOutline: Binary | null; // rings for the segment layer
}

export class AnnotationRenderer {
  private sliceData = new WeakMap<Chunk, { version: number; data: (Binary | null)[] }>();
  private polygonData = new WeakMap<Chunk, { version: number; fans: boolean; data: (PolygonSlice | undefined)[] }>();
  // by the layer's data, not its key: a layer removed and added again under the same name starts
  // its versions anew, and must not find the old layer's shapes here
  private overlayData = new WeakMap<LayerData, { version: number; groups: Record<string, Binary | Shape[]> }>();
  private density = new WeakMap<LayerData, DensityMap>();
  private densityPending = new Set<string>();
  private selectionCache: { key: string; shapes: Shape[] } | null = null;
  /** which layers were drawn as density in the last frame (for the status line) */
  densityLayers = new Set<string>();
  /** false: every polygon as earcut fill under segment outlines, as before fans (for the
   * benchmark, which measures both in one page) */
  polygonFans = true;

  /** true while a density map is being (re)built: what is on screen is not final yet */
  get busy(): boolean {
    return this.densityPending.size > 0;
  }

  constructor(private store: AnnotationStore, private size: () => [number, number], private requestRender: () => void) {}

  layers(metas: LayerMeta[], view: ViewBox, show: boolean): Layer[] {
    const out: Layer[] = [];
    this.densityLayers.clear();
    if (!show) return out;
    for (const meta of metas) {
      if (!meta.visible) continue;
      const l = this.store.layers.get(meta.key);
      if (!l) continue;
      const color = hexToRgba(meta.color);
      // count what the view holds, slice by slice (a chunk can span much of the slide)
      let inView = l.overlay.size, tiny = 0;
      for (const c of l.chunks) {
        if (!c || !intersects(view.bounds, c.bbox)) continue;
        const small = c.typicalSize * view.scale < TINY_PX;
        for (const sl of c.slices) {
          if (!intersects(view.bounds, sl.bbox)) continue;
          inView += sl.end - sl.start;
          if (small) tiny += sl.end - sl.start;
        }
      }
      if (inView > DENSITY_LIMIT || tiny > DENSITY_LIMIT_TINY) {
        this.densityLayers.add(meta.key);
        const [w, h] = this.size();
        const d = this.densityFor(meta, l, color, densityCell(w, h, view.scale));
        if (d) {
          out.push(new BitmapLayer({
            id: `density-${meta.key}`,
            image: d.canvas,
            bounds: [[d.bounds[0], d.bounds[3]], [d.bounds[0], d.bounds[1]], [d.bounds[2], d.bounds[1]], [d.bounds[2], d.bounds[3]]] as any,
            opacity: meta.opacity,
            textureParameters: { minFilter: "linear", magFilter: "nearest" } as any,
            updateTriggers: { image: d.version },
          } as any));
        }
        continue;
      }
      for (const c of l.chunks) {
        if (!c || !intersects(view.bounds, c.bbox) || c.count === c.hiddenCount) continue;
        const slices = c.slices;
        for (let k = 0; k < slices.length; k++) {
          if (!intersects(view.bounds, slices[k].bbox)) continue;
          if (c.kind === "polygon") {
            out.push(...this.polygonLayers(meta, c, k, color));
            continue;
          }
          const layer = this.sliceLayer(meta, c, k, color);
          if (layer) out.push(layer);
        }
      }
      out.push(...this.overlayLayers(meta, color));
    }
    return out;
  }

  private densityFor(meta: LayerMeta, l: LayerData, color: RGBA, cell: number): DensityMap | null {
    const version = l.version;
    const cached = this.density.get(l);
    const colorKey = meta.color;
    if (cached && cached.version === version && cached.color === colorKey && cached.cell === cell) return cached;
    // rebuilding scans every shape: do it outside the frame, keep showing the old map meanwhile
    if (!this.densityPending.has(meta.key)) {
      this.densityPending.add(meta.key);
      setTimeout(() => {
        this.densityPending.delete(meta.key);
        const [w, h] = this.size();
        const d = buildDensity(this.store, meta.key, w, h, color, cell);
        d.version = version;
        d.color = colorKey;
        this.density.set(l, d);
        this.requestRender();
      }, cached && cached.version !== version ? 150 : 0);
    }
    return cached ?? null;
  }

  private binary(c: Chunk, k: number): Binary | null {
    let cached = this.sliceData.get(c);
    if (!cached || cached.version !== c.version) {
      cached = { version: c.version, data: new Array(c.slices.length).fill(undefined) };
      this.sliceData.set(c, cached);
    }
    if (cached.data[k] === undefined) {
      const s = c.slices[k];
      cached.data[k] = sliceBinary(c, s.start, s.end);
    }
    return cached.data[k];
  }

  /** Slice k of a polygon chunk: its fans (fill and outline in one draw), and the shapes that
   * are not fans as earcut fill under segment outlines. Built the first time the slice is in
   * view and kept until the chunk changes. */
  private polygonLayers(meta: LayerMeta, c: Chunk, k: number, color: RGBA): Layer[] {
    let cached = this.polygonData.get(c);
    if (!cached || cached.version !== c.version || cached.fans !== this.polygonFans) {
      cached = { version: c.version, fans: this.polygonFans, data: new Array(c.slices.length).fill(undefined) };
      this.polygonData.set(c, cached);
    }
    let data = cached.data[k];
    if (data === undefined) data = cached.data[k] = polygonSlice(c, c.slices[k].start, c.slices[k].end, this.polygonFans);
    const fill: RGBA = [color[0], color[1], color[2], Math.round(255 * meta.fill_opacity)];
    const id = `${meta.key}-${c.index}-${k}`;
    const out: Layer[] = [];
    if (data.fans.indices.length)
      out.push(new FanLayer({ id: `fan-${id}`, data: data.fans, lineColor: color, fillColor: fill, width: meta.line_width, opacity: meta.opacity, pickable: false } as any));
    if (data.restFill && fill[3] > 0)
      out.push(new FillLayer({ id: `fill-${id}`, data: data.restFill, color: fill, opacity: meta.opacity, pickable: false } as any));
    if (data.restOutline)
      out.push(new SegmentLayer({ id: `ann-${id}`, data: data.restOutline, loop: true, width: meta.line_width, color, opacity: meta.opacity, pickable: false } as any));
    return out;
  }

  private sliceLayer(meta: LayerMeta, c: Chunk, k: number, color: RGBA): Layer | null {
    // Only slices in view become layers; leaving the view frees them, and coming back re-uploads
    // a few kilobytes (views over the chunk's arrays, nothing is copied unless shapes are hidden).
    const data = this.binary(c, k);
    if (!data || !data.length) return null;
    const common = { id: `ann-${meta.key}-${c.index}-${k}`, data, opacity: meta.opacity, pickable: false };
    switch (c.kind) {
      case "box":
        return new BoxLayer({
          ...common,
          lineColor: color,
          fillColor: [color[0], color[1], color[2], Math.round(255 * meta.fill_opacity)],
          lineWidth: meta.line_width,
          ellipse: meta.ellipse,
        } as any);
      case "point":
        // through the box layer, as circles of a fixed screen size: plain triangles, not the
        // instances of a ScatterplotLayer (see box-layer.ts)
        return new BoxLayer({
          ...common,
          lineColor: [0, 0, 0, 200],
          fillColor: color,
          lineWidth: 1,
          minPixels: 2 * meta.point_radius,
          ellipse: true,
          dots: true,
        } as any);
      case "path":
      case "polygon":
        return new SegmentLayer({
          ...common,
          loop: c.kind === "polygon",
          width: meta.line_width,
          color,
        } as any);
    }
  }

  private overlayLayers(meta: LayerMeta, color: RGBA): Layer[] {
    const l = this.store.layers.get(meta.key)!;
    if (!l.overlay.size) return [];
    let cached = this.overlayData.get(l);
    if (!cached || cached.version !== l.overlayVersion) {
      cached = { version: l.overlayVersion, groups: groupShapes([...l.overlay.values()]) };
      this.overlayData.set(l, cached);
    }
    return shapeLayers(`ovl-${meta.key}`, cached.groups, {
      line: color,
      fill: [color[0], color[1], color[2], Math.round(255 * meta.fill_opacity)],
      width: meta.line_width,
      radius: meta.point_radius,
      ellipse: meta.ellipse,
      opacity: meta.opacity,
    });
  }

  /** The selection, drawn on top: white outlines and a translucent fill. */
  selectionLayers(metas: LayerMeta[], view: ViewBox): Layer[] {
    const sel = this.store.selection;
    if (!sel.size) return [];
    const key = `${this.store.selectionVersion}:${this.store.version}`;
    if (!this.selectionCache || this.selectionCache.key !== key) {
      const shapes: Shape[] = [];
      for (const id of sel) {
        const s = this.store.get(id);
        if (s) shapes.push(s);
      }
      this.selectionCache = { key, shapes };
    }
    const ellipseLayers = new Set(metas.filter((m) => m.ellipse).map((m) => m.key));
    const shapes = this.selectionCache.shapes;
    const boxes = shapes.filter((s) => s.kind === "box" && !ellipseLayers.has(s.layer));
    const ellipses = shapes.filter((s) => s.kind === "box" && ellipseLayers.has(s.layer));
    const rest = shapes.filter((s) => s.kind !== "box");
    const style = { line: SELECTED, fill: SELECTED_FILL, width: 2.5, radius: 7, opacity: 1 };
    const groups = groupShapes(rest);
    return [
      ...shapeLayers("sel-b", { box: toBoxes(boxes) }, { ...style, ellipse: false }),
      ...shapeLayers("sel-e", { box: toBoxes(ellipses) }, { ...style, ellipse: true }),
      ...shapeLayers("sel", groups, { ...style, ellipse: false }, rest.length < 5000),
    ];
  }
}

function polygonSlice(c: Chunk, start: number, end: number, useFans: boolean): PolygonSlice {
  const columns = { coords: c.coords, offsets: c.offsets!, geomOffsets: c.geomOffsets! };
  const fans = useFans ? buildFans(columns, start, end, c.hidden) : noFans(start, end, c.hidden);
  if (!fans.rest.length) return { fans, restFill: null, restOutline: null };
  // everything but the shapes that are not fans is skipped by the general path
  const skip = new Uint8Array(c.count).fill(1);
  for (const i of fans.rest) skip[i] = 0;
  return { fans, restFill: triangulate(columns, start, end, skip), restOutline: sliceBinary(c, start, end, skip) };
}

function noFans(start: number, end: number, hidden: Uint8Array | null): Fans {
  const rest: number[] = [];
  for (let i = start; i < end; i++) if (!hidden || !hidden[i]) rest.push(i);
  return { vertices: new Float32Array(0), indices: new Uint16Array(0), rest };
}

/** Render data of shapes [start, end) of a chunk, without the hidden ones (they live in the
 * overlay or are deleted; by default the chunk's own): views over the chunk's arrays when
 * nothing is hidden. */
function sliceBinary(c: Chunk, start: number, end: number, skip: Uint8Array | null = c.hidden): Binary | null {
  let hidden = 0;
  if (skip) for (let i = start; i < end; i++) hidden += skip[i];
  if (hidden === end - start) return null;
  if (c.kind === "box" || c.kind === "point") {
    const k = c.kind === "box" ? 4 : 2;
    const name = c.kind === "box" ? "getBounds" : "getPosition";
    let value: Float32Array;
    if (!hidden) value = c.coords.subarray(k * start, k * end);
    else {
      value = new Float32Array((end - start - hidden) * k);
      let j = 0;
      for (let i = start; i < end; i++) if (!skip![i]) value.set(c.coords.subarray(k * i, k * i + k), k * j++);
    }
    return { length: value.length / k, attributes: { [name]: { value, size: k } } };
  }
  // paths and polygon rings: a PathLayer path per line or ring
  const starts: number[] = [];
  let v0 = -1, v1 = 0;
  const parts: [number, number][] = [];
  for (let i = start; i < end; i++) {
    if (skip && skip[i]) continue;
    const rings: [number, number][] = [];
    if (c.kind === "path") rings.push(c.vertexRange(i));
    else {
      const g = c.geomOffsets!, o = c.offsets!;
      for (let r = g[i]; r < g[i + 1]; r++) rings.push([o[r], o[r + 1]]);
    }
    for (const [a, b] of rings) {
      if (v0 < 0) v0 = a;
      parts.push([a, b]);
      v1 = b;
    }
  }
  if (!parts.length) return null;
  let coords: Float32Array;
  if (!hidden) {
    coords = c.coords.subarray(2 * v0, 2 * v1);
    for (const [a] of parts) starts.push(a - v0);
  } else {
    let n = 0;
    for (const [a, b] of parts) n += b - a;
    coords = new Float32Array(2 * n);
    let at = 0;
    for (const [a, b] of parts) {
      starts.push(at / 2);
      coords.set(c.coords.subarray(2 * a, 2 * b), at);
      at += 2 * (b - a);
    }
  }
  return { length: starts.length, startIndices: Uint32Array.from(starts), attributes: { getPath: { value: coords, size: 2 } } };
}

function toBoxes(shapes: Shape[]): Binary {
  const out = new Float32Array(shapes.length * 4);
  shapes.forEach((s, i) => out.set(s.coords.slice(0, 4), 4 * i));
  return { length: shapes.length, attributes: { getBounds: { value: out, size: 4 } } };
}

/** Group small numbers of shapes by how they are drawn. */
export function groupShapes(shapes: Shape[]): Record<string, Binary | Shape[]> {
  const boxes = shapes.filter((s) => s.kind === "box");
  const points = shapes.filter((s) => s.kind === "point");
  const paths = shapes.filter((s) => s.kind === "path");
  const polygons = shapes.filter((s) => s.kind === "polygon");
  const pos = new Float32Array(points.length * 2);
  points.forEach((s, i) => pos.set(s.coords.slice(0, 2), 2 * i));
  return {
    box: toBoxes(boxes),
    point: { length: points.length, attributes: { getPosition: { value: pos, size: 2 } } },
    path: paths,
    polygon: polygons,
  };
}

export interface ShapeStyle {
  line: RGBA;
  fill: RGBA;
  width: number;
  radius: number;
  ellipse: boolean;
  opacity: number;
}

function rings(s: Shape): number[][][] {
  const n = s.coords.length / 2;
  const starts = s.rings ?? [0];
  return starts.map((r0, k) => {
    const r1 = k + 1 < starts.length ? starts[k + 1] : n;
    const ring: number[][] = [];
    for (let v = r0; v < r1; v++) ring.push([s.coords[2 * v], s.coords[2 * v + 1]]);
    return ring;
  });
}

export function shapeLayers(id: string, groups: Record<string, Binary | Shape[]>, st: ShapeStyle, fillPolygons = false): Layer[] {
  const out: Layer[] = [];
  const box = groups.box as Binary | undefined;
  if (box && box.length)
    out.push(new BoxLayer({ id: `${id}-box`, data: box as any, lineColor: st.line, fillColor: st.fill, lineWidth: st.width, ellipse: st.ellipse, opacity: st.opacity } as any));
  const point = groups.point as Binary | undefined;
  if (point && point.length)
    out.push(new ScatterplotLayer({
      id: `${id}-point`, data: point as any, radiusUnits: "pixels", getRadius: st.radius, getFillColor: st.line,
      stroked: true, getLineColor: [0, 0, 0, 220], lineWidthUnits: "pixels", getLineWidth: 1, opacity: st.opacity,
    } as any));
  const polygons = (groups.polygon as Shape[] | undefined) ?? [];
  if (polygons.length && (fillPolygons || st.fill[3] > 0))
    out.push(new FillLayer({ id: `${id}-fill`, data: triangulateShapes(polygons), color: st.fill, opacity: st.opacity } as any));
  const paths: { path: number[][]; loop: boolean }[] = [];
  for (const s of (groups.path as Shape[] | undefined) ?? []) paths.push({ path: rings(s)[0], loop: false });
  for (const s of polygons) for (const r of rings(s)) paths.push({ path: [...r, r[0]], loop: true });
  if (paths.length)
    out.push(new PathLayer({
      id: `${id}-path`, data: paths, getPath: (d: any) => d.path, getColor: st.line, getWidth: st.width,
      widthUnits: "pixels", opacity: st.opacity,
    } as any));
  return out;
}
