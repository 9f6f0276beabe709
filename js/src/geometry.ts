// Small geometry helpers for hit testing and editing, all in level-0 pixel coordinates.
import type { Shape } from "./protocol";

export type BBox = [number, number, number, number];

export function shapeBBox(s: Shape): BBox {
  const c = s.coords;
  if (s.kind === "box") return [c[0], c[1], c[2], c[3]];
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (let i = 0; i < c.length; i += 2) {
    const x = c[i], y = c[i + 1];
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
  }
  return [x0, y0, x1, y1];
}

export function bboxArea(b: BBox): number {
  return Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]);
}

export function intersects(a: BBox, b: ArrayLike<number>): boolean {
  return a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3];
}

/** Even-odd point in polygon over flat ring coordinates [start, end) in vertex units. */
function pointInRing(c: ArrayLike<number>, start: number, end: number, x: number, y: number): boolean {
  let inside = false;
  for (let i = start, j = end - 1; i < end; j = i++) {
    const xi = c[2 * i], yi = c[2 * i + 1], xj = c[2 * j], yj = c[2 * j + 1];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

export function pointInPolygon(c: ArrayLike<number>, rings: ArrayLike<number> | undefined, nVertices: number, x: number, y: number): boolean {
  if (!rings || rings.length <= 1) return pointInRing(c, 0, nVertices, x, y);
  let inside = false;
  for (let r = 0; r < rings.length; r++) {
    const end = r + 1 < rings.length ? rings[r + 1] : nVertices;
    if (pointInRing(c, rings[r], end, x, y)) inside = !inside;
  }
  return inside;
}

export function segmentDistance(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax, dy = by - ay;
  const len2 = dx * dx + dy * dy;
  let t = len2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0;
  t = Math.max(0, Math.min(1, t));
  const qx = ax + t * dx - px, qy = ay + t * dy - py;
  return Math.sqrt(qx * qx + qy * qy);
}

/** Distance from a point to a polyline (closed adds the last-to-first edge). */
export function pathDistance(c: ArrayLike<number>, start: number, end: number, closed: boolean, x: number, y: number): number {
  let best = Infinity;
  const last = closed ? end : end - 1;
  for (let i = start; i < last; i++) {
    const j = i + 1 < end ? i + 1 : start;
    const d = segmentDistance(x, y, c[2 * i], c[2 * i + 1], c[2 * j], c[2 * j + 1]);
    if (d < best) best = d;
  }
  if (end - start === 1) best = Math.hypot(c[2 * start] - x, c[2 * start + 1] - y);
  return best;
}

/**
 * How well `shape` matches a click at (x, y): a number >= 0 where smaller is better (the area of
 * what was hit, so small shapes inside big ones win), or -1 for a miss. `tol` is in pixels of the
 * image, `ellipse` draws boxes as the ellipse they bound.
 */
export function hitScore(s: Shape, x: number, y: number, tol: number, ellipse: boolean, area: boolean): number {
  const c = s.coords;
  switch (s.kind) {
    case "point": {
      const d = Math.hypot(c[0] - x, c[1] - y);
      return d <= tol ? d : -1;
    }
    case "box": {
      const [x0, y0, x1, y1] = c;
      if (ellipse) {
        const rx = (x1 - x0) / 2 + tol, ry = (y1 - y0) / 2 + tol;
        const dx = (x - (x0 + x1) / 2) / rx, dy = (y - (y0 + y1) / 2) / ry;
        if (dx * dx + dy * dy > 1) return -1;
      } else if (x < x0 - tol || x > x1 + tol || y < y0 - tol || y > y1 + tol) return -1;
      const inside = x >= x0 && x <= x1 && y >= y0 && y <= y1;
      if (!area && inside && Math.min(x - x0, x1 - x, y - y0, y1 - y) > tol) return -1;
      return (x1 - x0) * (y1 - y0);
    }
    case "path": {
      const n = c.length / 2;
      return pathDistance(c, 0, n, false, x, y) <= tol ? 0 : -1;
    }
    case "polygon": {
      const n = c.length / 2;
      const rings = s.rings ?? [0];
      for (let r = 0; r < rings.length; r++) {
        const end = r + 1 < rings.length ? rings[r + 1] : n;
        if (pathDistance(c, rings[r], end, true, x, y) <= tol) return bboxArea(shapeBBox(s));
      }
      if (area && pointInPolygon(c, rings, n, x, y)) return bboxArea(shapeBBox(s));
      return -1;
    }
  }
}

export function shapeCenter(s: Shape): [number, number] {
  const b = shapeBBox(s);
  return [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2];
}

export function normalizeBox(x0: number, y0: number, x1: number, y1: number): number[] {
  return [Math.min(x0, x1), Math.min(y0, y1), Math.max(x0, x1), Math.max(y0, y1)];
}

/** Drop points closer than `eps` to the last kept one (freehand strokes). */
export function thinPath(c: number[], eps: number): number[] {
  if (c.length <= 4) return c.slice();
  const out = [c[0], c[1]];
  for (let i = 2; i < c.length; i += 2) {
    const lx = out[out.length - 2], ly = out[out.length - 1];
    if (Math.hypot(c[i] - lx, c[i + 1] - ly) >= eps) out.push(c[i], c[i + 1]);
  }
  return out;
}

/** Douglas-Peucker simplification of an open path of flat coordinates. */
export function simplify(c: number[], eps: number): number[] {
  const n = c.length / 2;
  if (n <= 3) return c.slice();
  const keep = new Uint8Array(n);
  keep[0] = keep[n - 1] = 1;
  const stack: [number, number][] = [[0, n - 1]];
  while (stack.length) {
    const [a, b] = stack.pop()!;
    let best = -1, bestD = eps;
    for (let i = a + 1; i < b; i++) {
      const d = segmentDistance(c[2 * i], c[2 * i + 1], c[2 * a], c[2 * a + 1], c[2 * b], c[2 * b + 1]);
      if (d > bestD) { bestD = d; best = i; }
    }
    if (best >= 0) {
      keep[best] = 1;
      stack.push([a, best], [best, b]);
    }
  }
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (keep[i]) out.push(c[2 * i], c[2 * i + 1]);
  return out;
}

export function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

export function cloneShape(s: Shape): Shape {
  return { ...s, coords: s.coords.slice(), rings: s.rings ? s.rings.slice() : undefined };
}

export function sameGeometry(a: Shape, b: Shape): boolean {
  if (a.kind !== b.kind || a.layer !== b.layer || a.coords.length !== b.coords.length) return false;
  for (let i = 0; i < a.coords.length; i++) if (a.coords[i] !== b.coords[i]) return false;
  const ra = a.rings ?? [0], rb = b.rings ?? [0];
  if (ra.length !== rb.length) return false;
  for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return false;
  return true;
}
