// A brush stroke rasterised into a label tile, by the kernel's rule (exact_lab/masks/tiles.py
// `stroke_mask`): every pixel whose centre lies within `radius` of the polyline. The browser paints
// with it at once; the kernel stores the same polyline and radius, so what is shown is what is kept.

/** A label tile to paint into: `width` x `height` values, the first at level-0 (`x0`, `y0`), each
 * covering `scale` x `scale` level-0 pixels (2**level). */
export interface LabelTarget {
  data: Uint8Array | Uint16Array;
  width: number;
  height: number;
  x0: number;
  y0: number;
  scale: number;
}

/** Pixel box [i0, j0, i1, j1) of the target that changed, or null. */
export type Dirty = [number, number, number, number] | null;

/** Paint `value` into every target pixel whose centre (level-0) is within `radius` of the polyline
 * `points` (flat x0, y0, x1, y1, ... in level-0 pixels); one point paints a disc. */
export function paintStroke(t: LabelTarget, points: ArrayLike<number>, radius: number, value: number): Dirty {
  const n = points.length >> 1;
  if (!n || !(radius > 0)) return null;
  let dirty: Dirty = null;
  const last = n > 1 ? n - 1 : 1;
  for (let k = 0; k < last; k++) {
    const ax = points[2 * k], ay = points[2 * k + 1];
    const bx = n > 1 ? points[2 * k + 2] : ax, by = n > 1 ? points[2 * k + 3] : ay;
    dirty = union(dirty, paintSegment(t, ax, ay, bx, by, radius, value));
  }
  return dirty;
}

function paintSegment(t: LabelTarget, ax: number, ay: number, bx: number, by: number, r: number, value: number): Dirty {
  const s = t.scale;
  // pixel i's centre is x0 + (i + 0.5) * s: only those within the segment's box can be near it
  const i0 = Math.max(0, Math.floor((Math.min(ax, bx) - r - t.x0) / s - 0.5));
  const i1 = Math.min(t.width, Math.ceil((Math.max(ax, bx) + r - t.x0) / s + 0.5));
  const j0 = Math.max(0, Math.floor((Math.min(ay, by) - r - t.y0) / s - 0.5));
  const j1 = Math.min(t.height, Math.ceil((Math.max(ay, by) + r - t.y0) / s + 0.5));
  if (i1 <= i0 || j1 <= j0) return null;
  const dx = bx - ax, dy = by - ay;
  const length2 = dx * dx + dy * dy;
  const r2 = r * r;
  const data = t.data;
  let hit = false;
  for (let j = j0; j < j1; j++) {
    const cy = t.y0 + (j + 0.5) * s;
    const row = j * t.width;
    for (let i = i0; i < i1; i++) {
      const cx = t.x0 + (i + 0.5) * s;
      let d2: number;
      // the same operations in the same order as numpy's in stroke_mask: bit-identical distances
      if (length2 === 0) d2 = (cx - ax) ** 2 + (cy - ay) ** 2;
      else {
        const u = Math.min(1, Math.max(0, ((cx - ax) * dx + (cy - ay) * dy) / length2));
        d2 = (cx - ax - u * dx) ** 2 + (cy - ay - u * dy) ** 2;
      }
      if (d2 <= r2) {
        data[row + i] = value;
        hit = true;
      }
    }
  }
  return hit ? [i0, j0, i1, j1] : null;
}

function union(a: Dirty, b: Dirty): Dirty {
  if (!a) return b;
  if (!b) return a;
  return [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[2], b[2]), Math.max(a[3], b[3])];
}

/** Paint `value` into every target pixel whose centre (level-0) is inside the closed outline
 * `ring` (flat x0, y0, x1, y1, ... level-0; the last point joins the first), by the even-odd rule:
 * the kernel's `polygon_mask` with the same crossings in the same arithmetic. */
export function paintPolygon(t: LabelTarget, ring: ArrayLike<number>, value: number): Dirty {
  const n = ring.length >> 1;
  if (n < 3) return null;
  let minY = Infinity, maxY = -Infinity;
  for (let k = 1; k < ring.length; k += 2) {
    minY = Math.min(minY, ring[k]);
    maxY = Math.max(maxY, ring[k]);
  }
  const s = t.scale;
  const j0 = Math.max(0, Math.floor((minY - t.y0) / s - 0.5));
  const j1 = Math.min(t.height, Math.ceil((maxY - t.y0) / s + 0.5));
  let dirty: Dirty = null;
  const xs: number[] = [];
  for (let j = j0; j < j1; j++) {
    const cy = t.y0 + (j + 0.5) * s;
    xs.length = 0;
    for (let k = 0; k < n; k++) {
      const ax = ring[2 * k], ay = ring[2 * k + 1];
      const m = k + 1 < n ? k + 1 : 0;
      const bx = ring[2 * m], by = ring[2 * m + 1];
      if (ay > cy !== by > cy) xs.push(ax + ((cy - ay) * (bx - ax)) / (by - ay));
    }
    if (xs.length < 2) continue;
    xs.sort((a, b) => a - b);
    const row = j * t.width;
    for (let p = 0; p + 1 < xs.length; p += 2) {
      // centres in [xs[p], xs[p + 1]): found from an estimate, then by exact comparison
      let i = Math.max(0, Math.floor((xs[p] - t.x0) / s - 0.5));
      while (i < t.width && t.x0 + (i + 0.5) * s < xs[p]) i++;
      const start = i;
      while (i < t.width && t.x0 + (i + 0.5) * s < xs[p + 1]) t.data[row + i++] = value;
      if (i > start) dirty = union(dirty, [start, j, i, j + 1]);
    }
  }
  return dirty;
}
