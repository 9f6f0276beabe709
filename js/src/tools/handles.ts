// Edit handles of a single selected shape: box corners and edges for resizing, vertices to move
// (alt-click deletes), edge midpoints to insert a vertex.
import type { Shape } from "../protocol";

export interface Handle {
  kind: "corner" | "edge" | "vertex" | "mid";
  index: number; // box: 0-3 corners tl,tr,br,bl / 0-3 edges t,r,b,l; vertex index; mid: insert after vertex
  x: number;
  y: number;
}

/** The vertex range [start, end) of the ring holding vertex v, for polygons with holes. */
export function ringOf(s: Shape, v: number): [number, number] {
  const n = s.coords.length / 2;
  const rings = s.rings ?? [0];
  for (let r = rings.length - 1; r >= 0; r--) if (v >= rings[r]) return [rings[r], r + 1 < rings.length ? rings[r + 1] : n];
  return [0, n];
}

export function handlesOf(s: Shape): Handle[] {
  const c = s.coords;
  if (s.kind === "box") {
    const [x0, y0, x1, y1] = c;
    const mx = (x0 + x1) / 2, my = (y0 + y1) / 2;
    return [
      { kind: "corner", index: 0, x: x0, y: y0 }, { kind: "corner", index: 1, x: x1, y: y0 },
      { kind: "corner", index: 2, x: x1, y: y1 }, { kind: "corner", index: 3, x: x0, y: y1 },
      { kind: "edge", index: 0, x: mx, y: y0 }, { kind: "edge", index: 1, x: x1, y: my },
      { kind: "edge", index: 2, x: mx, y: y1 }, { kind: "edge", index: 3, x: x0, y: my },
    ];
  }
  if (s.kind === "point") return [];
  const out: Handle[] = [];
  const n = c.length / 2;
  for (let v = 0; v < n; v++) out.push({ kind: "vertex", index: v, x: c[2 * v], y: c[2 * v + 1] });
  const rings = s.kind === "polygon" ? (s.rings ?? [0]) : [0];
  rings.forEach((r0, k) => {
    const r1 = k + 1 < rings.length ? rings[k + 1] : n;
    const last = s.kind === "polygon" ? r1 : r1 - 1;
    for (let v = r0; v < last; v++) {
      const w = v + 1 < r1 ? v + 1 : r0;
      out.push({ kind: "mid", index: v, x: (c[2 * v] + c[2 * w]) / 2, y: (c[2 * v + 1] + c[2 * w + 1]) / 2 });
    }
  });
  return out;
}

/** A new state of `s` with handle `h` dragged to (x, y). Boxes are normalised by the caller. */
export function dragHandle(s: Shape, h: Handle, x: number, y: number): Shape {
  const c = s.coords.slice();
  if (s.kind === "box") {
    if (h.kind === "corner") {
      if (h.index === 0 || h.index === 3) c[0] = x; else c[2] = x;
      if (h.index === 0 || h.index === 1) c[1] = y; else c[3] = y;
    } else {
      if (h.index === 0) c[1] = y;
      if (h.index === 1) c[2] = x;
      if (h.index === 2) c[3] = y;
      if (h.index === 3) c[0] = x;
    }
    return { ...s, coords: c };
  }
  c[2 * h.index] = x;
  c[2 * h.index + 1] = y;
  return { ...s, coords: c };
}

/** Insert a vertex after vertex `after` (same ring), returning the new shape and the new index. */
export function insertVertex(s: Shape, after: number, x: number, y: number): [Shape, number] {
  const c = s.coords.slice();
  c.splice(2 * (after + 1), 0, x, y);
  const rings = s.rings?.map((r) => (r > after ? r + 1 : r));
  return [{ ...s, coords: c, rings }, after + 1];
}

/** Remove vertex v; null when the ring would become degenerate. */
export function deleteVertex(s: Shape, v: number): Shape | null {
  const [r0, r1] = ringOf(s, v);
  const min = s.kind === "polygon" ? 3 : 2;
  if (r1 - r0 <= min) return null;
  const c = s.coords.slice();
  c.splice(2 * v, 2);
  const rings = s.rings?.map((r) => (r > v ? r - 1 : r));
  return { ...s, coords: c, rings };
}

export function translate(s: Shape, dx: number, dy: number): Shape {
  return { ...s, coords: s.coords.map((v, i) => (i % 2 === 0 ? v + dx : v + dy)) };
}
