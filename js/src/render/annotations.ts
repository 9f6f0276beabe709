// deck.gl layers for the annotations: per chunk binary layers (boxes as instanced quads, points
// as instanced circles, paths and polygon outlines as binary PathLayers), the overlay of edited
// shapes, density maps when zoomed out, and the selection highlight.
import type { Layer } from "@deck.gl/core";
import { BitmapLayer, PathLayer, ScatterplotLayer, SolidPolygonLayer } from "@deck.gl/layers";
import type { Chunk } from "../data/chunk";
import type { AnnotationStore } from "../data/store";
import type { LayerMeta, Shape } from "../protocol";
import { BoxLayer } from "./box-layer";
import { hexToRgba, RGBA, SELECTED, SELECTED_FILL } from "./colors";
import { buildDensity, densityCell, DensityMap } from "./density";
import { intersects } from "../geometry";

/** Above this many shapes of one layer in view, the layer is drawn as a density map. */
export const DENSITY_LIMIT = 150_000;

export interface ViewBox {
  bounds: [number, number, number, number];
  scale: number; // screen pixels per level-0 pixel
}

type Binary = { length: number; startIndices?: Uint32Array; attributes: Record<string, { value: Float32Array; size: number }> };

export class AnnotationRenderer {
  private chunkData = new WeakMap<Chunk, { version: number; data: Binary }>();
  private overlayData = new Map<string, { version: number; groups: Record<string, Binary | Shape[]> }>();
  private density = new Map<string, DensityMap>();
  private densityPending = new Set<string>();
  private selectionCache: { key: string; shapes: Shape[] } | null = null;
  /** which layers were drawn as density in the last frame (for the status line) */
  densityLayers = new Set<string>();

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
      let inView = l.overlay.size;
      for (const c of l.chunks) if (c && intersects(view.bounds, c.bbox)) inView += c.count - c.hiddenCount;
      if (inView > DENSITY_LIMIT) {
        this.densityLayers.add(meta.key);
        const [w, h] = this.size();
        const d = this.densityFor(meta, color, l.version, densityCell(w, h, view.scale));
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
        if (!c) continue;
        const visible = intersects(view.bounds, c.bbox) && c.count > c.hiddenCount;
        const layer = this.chunkLayer(meta, c, color, visible);
        if (layer) out.push(layer);
      }
      out.push(...this.overlayLayers(meta, color));
    }
    return out;
  }

  private densityFor(meta: LayerMeta, color: RGBA, version: number, cell: number): DensityMap | null {
    const cached = this.density.get(meta.key);
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
        this.density.set(meta.key, d);
        this.requestRender();
      }, cached && cached.version !== version ? 150 : 0);
    }
    return cached ?? null;
  }

  private binary(c: Chunk): Binary {
    const cached = this.chunkData.get(c);
    if (cached && cached.version === c.version) return cached.data;
    const data = c.hiddenCount ? filtered(c) : unfiltered(c);
    this.chunkData.set(c, { version: c.version, data });
    return data;
  }

  private chunkLayer(meta: LayerMeta, c: Chunk, color: RGBA, visible: boolean): Layer | null {
    // Hidden chunks keep their layer (and GPU buffers) but skip drawing: panning back is free.
    const id = `ann-${meta.key}-${c.index}`;
    if (!visible && !this.chunkData.has(c)) return null;
    const data = this.binary(c);
    const common = { id, data, visible, opacity: meta.opacity, pickable: false };
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
        return new ScatterplotLayer({
          ...common,
          radiusUnits: "pixels",
          getRadius: meta.point_radius,
          getFillColor: color,
          getLineColor: [0, 0, 0, 200],
          stroked: true,
          lineWidthUnits: "pixels",
          getLineWidth: 1,
        } as any);
      case "path":
      case "polygon":
        return new PathLayer({
          ...common,
          _pathType: c.kind === "polygon" ? "loop" : "open",
          widthUnits: "pixels",
          getWidth: meta.line_width,
          getColor: color,
          jointRounded: false,
          capRounded: false,
        } as any);
    }
  }

  private overlayLayers(meta: LayerMeta, color: RGBA): Layer[] {
    const l = this.store.layers.get(meta.key)!;
    if (!l.overlay.size) return [];
    let cached = this.overlayData.get(meta.key);
    if (!cached || cached.version !== l.overlayVersion) {
      cached = { version: l.overlayVersion, groups: groupShapes([...l.overlay.values()]) };
      this.overlayData.set(meta.key, cached);
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

function unfiltered(c: Chunk): Binary {
  switch (c.kind) {
    case "box":
      return { length: c.count, attributes: { getBounds: { value: c.coords, size: 4 } } };
    case "point":
      return { length: c.count, attributes: { getPosition: { value: c.coords, size: 2 } } };
    case "path":
      return { length: c.count, startIndices: c.offsets!.subarray(0, c.count), attributes: { getPath: { value: c.coords, size: 2 } } };
    case "polygon": {
      const rings = c.offsets!.length - 1;
      return { length: rings, startIndices: c.offsets!.subarray(0, rings), attributes: { getPath: { value: c.coords, size: 2 } } };
    }
  }
}

/** A compact copy without the hidden shapes (they live in the overlay or are deleted). */
function filtered(c: Chunk): Binary {
  const keep: number[] = [];
  for (let i = 0; i < c.count; i++) if (!c.hidden![i]) keep.push(i);
  if (c.kind === "box" || c.kind === "point") {
    const k = c.kind === "box" ? 4 : 2;
    const out = new Float32Array(keep.length * k);
    keep.forEach((i, j) => out.set(c.coords.subarray(k * i, k * i + k), k * j));
    const name = c.kind === "box" ? "getBounds" : "getPosition";
    return { length: keep.length, attributes: { [name]: { value: out, size: k } } };
  }
  const starts: number[] = [];
  const parts: Float32Array[] = [];
  let n = 0;
  for (const i of keep) {
    if (c.kind === "path") {
      starts.push(n);
      const [v0, v1] = c.vertexRange(i);
      parts.push(c.coords.subarray(2 * v0, 2 * v1));
      n += v1 - v0;
    } else {
      const g = c.geomOffsets!, o = c.offsets!;
      for (let r = g[i]; r < g[i + 1]; r++) {
        starts.push(n);
        parts.push(c.coords.subarray(2 * o[r], 2 * o[r + 1]));
        n += o[r + 1] - o[r];
      }
    }
  }
  const coords = new Float32Array(n * 2);
  let at = 0;
  for (const p of parts) {
    coords.set(p, at);
    at += p.length;
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
    out.push(new SolidPolygonLayer({ id: `${id}-fill`, data: polygons, getPolygon: (s: Shape) => rings(s), getFillColor: st.fill, opacity: st.opacity } as any));
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
