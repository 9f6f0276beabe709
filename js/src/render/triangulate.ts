// Polygon fills as plain triangles, cut once per slice when the slice first comes into view.
// earcut on a 17-vertex cell outline is a few microseconds, so a slice (~240 cells) costs well
// under a millisecond; the triangles are then a flat vertex list the fill layer draws as is.
import { earcut } from "@math.gl/polygon";

/** The polygons of a chunk as it stores them: vertices, ring starts, each shape's ring range. */
export interface PolygonColumns {
  coords: Float32Array; // x, y per vertex
  offsets: Uint32Array; // vertex offset per ring (rings + 1)
  geomOffsets: Uint32Array; // ring offset per shape (shapes + 1)
}

/** Triangles (x, y of three vertices each) of shapes [start, end), skipping hidden ones. A ring
 * may repeat its first vertex at the end (earcut drops the duplicate). Degenerate shapes (fewer
 * than three vertices, no area) add no triangles. */
export function triangulate(p: PolygonColumns, start: number, end: number, hidden: Uint8Array | null = null): Float32Array {
  const { coords, offsets: o, geomOffsets: g } = p;
  const parts: number[][] = [];
  let total = 0;
  const holes: number[] = [];
  for (let i = start; i < end; i++) {
    if (hidden && hidden[i]) continue;
    const r0 = g[i], r1 = g[i + 1];
    const v0 = o[r0], v1 = o[r1];
    if (v1 - v0 < 3) continue;
    holes.length = 0;
    for (let r = r0 + 1; r < r1; r++) holes.push(o[r] - v0);
    const flat = coords.subarray(2 * v0, 2 * v1);
    const idx = earcut(flat, holes.length ? holes : undefined, 2);
    if (!idx.length) continue;
    const tri = new Array<number>(2 * idx.length);
    for (let k = 0; k < idx.length; k++) {
      tri[2 * k] = flat[2 * idx[k]];
      tri[2 * k + 1] = flat[2 * idx[k] + 1];
    }
    parts.push(tri);
    total += tri.length;
  }
  const out = new Float32Array(total);
  let at = 0;
  for (const t of parts) {
    out.set(t, at);
    at += t.length;
  }
  return out;
}

/** Triangles of polygons given one by one (the overlay of edited shapes): coords and ring starts. */
export function triangulateShapes(shapes: { coords: number[]; rings?: number[] }[]): Float32Array {
  const coords: number[] = [], offsets: number[] = [0], geom: number[] = [0];
  for (const s of shapes) {
    const base = coords.length / 2;
    const starts = s.rings ?? [0];
    for (let k = 1; k < starts.length; k++) offsets.push(base + starts[k]);
    for (const v of s.coords) coords.push(v);
    offsets.push(coords.length / 2);
    geom.push(offsets.length - 1);
  }
  return triangulate({ coords: Float32Array.from(coords), offsets: Uint32Array.from(offsets), geomOffsets: Uint32Array.from(geom) }, 0, shapes.length);
}
