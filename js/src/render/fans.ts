// Polygons drawn as fans from their centre, fill and outline in one indexed draw (fan-layer.ts).
//
// A shape qualifies when it has one ring and its vertices' mean sees every edge from the inside
// (the polygon is star-shaped around it: cell outlines always are). Each ring vertex is stored
// once with the previous vertex (the edge that ends at it, which the fragment shader measures
// the outline against) and the centre; triangles share vertices by index, so SwiftShader shades
// about 17 vertices for a 16-vertex cell instead of the 138 of earcut triangles plus six per
// outline segment. Shapes that do not qualify (holes, concave around their mean) are left to the
// earcut fill and segment outline.
import type { PolygonColumns } from "./triangulate";

/** Floats per fan vertex: position, previous ring vertex, centre, distance of the centre from
 * the nearer of the vertex's two edges (0 for the centre itself: it is not pushed outwards). */
export const FAN_STRIDE = 7;

export interface Fans {
  vertices: Float32Array; // FAN_STRIDE floats per vertex
  indices: Uint16Array | Uint32Array; // three per triangle; the last vertex of each carries its edge
  /** shapes of [start, end) that are not fans (and not hidden): drawn the general way */
  rest: number[];
}

/** The centre of the ring's vertices, or null when it does not see every edge from the inside
 * by a margin (a thousandth of the edge's distance from the centre). */
function fanCentre(xy: Float32Array, v0: number, n: number): [number, number] | null {
  let cx = 0, cy = 0;
  for (let v = v0; v < v0 + n; v++) {
    cx += xy[2 * v];
    cy += xy[2 * v + 1];
  }
  cx /= n;
  cy /= n;
  let sign = 0;
  for (let j = 0; j < n; j++) {
    const a = v0 + j, b = v0 + ((j + 1) % n);
    const ex = xy[2 * b] - xy[2 * a], ey = xy[2 * b + 1] - xy[2 * a + 1];
    const len = Math.hypot(ex, ey);
    if (len === 0) continue; // a repeated vertex: no edge
    const h = (ex * (cy - xy[2 * a + 1]) - ey * (cx - xy[2 * a])) / len;
    const s = Math.sign(h);
    const reach = Math.max(Math.hypot(cx - xy[2 * a], cy - xy[2 * a + 1]), Math.hypot(cx - xy[2 * b], cy - xy[2 * b + 1]));
    if (Math.abs(h) <= 1e-3 * reach || (sign !== 0 && s !== sign)) return null;
    sign = s;
  }
  return sign === 0 ? null : [cx, cy];
}

/** Fans of shapes [start, end) of a polygon chunk, skipping hidden ones. */
export function buildFans(p: PolygonColumns, start: number, end: number, hidden: Uint8Array | null = null): Fans {
  const { coords: xy, offsets: o, geomOffsets: g } = p;
  const rest: number[] = [];
  const fans: [number, number, number, number][] = []; // first vertex, count, centre x, y
  let nv = 0, ni = 0;
  for (let i = start; i < end; i++) {
    if (hidden && hidden[i]) continue;
    const r0 = g[i];
    if (g[i + 1] - r0 !== 1) {
      rest.push(i);
      continue;
    }
    const v0 = o[r0];
    let n = o[r0 + 1] - v0;
    // a ring may repeat its first vertex at its end
    if (n > 3 && xy[2 * v0] === xy[2 * (v0 + n - 1)] && xy[2 * v0 + 1] === xy[2 * (v0 + n - 1) + 1]) n--;
    const c = n >= 3 ? fanCentre(xy, v0, n) : null;
    if (!c) {
      if (n >= 3) rest.push(i);
      continue;
    }
    fans.push([v0, n, c[0], c[1]]);
    nv += n + 1;
    ni += 3 * n;
  }
  const vertices = new Float32Array(nv * FAN_STRIDE);
  const indices = nv <= 65536 ? new Uint16Array(ni) : new Uint32Array(ni);
  let at = 0, k = 0;
  for (const [v0, n, cx, cy] of fans) {
    const base = at;
    put(vertices, at++, cx, cy, cx, cy, cx, cy, 0);
    for (let j = 0; j < n; j++) {
      const v = v0 + j, prev = v0 + ((j + n - 1) % n), next = v0 + ((j + 1) % n);
      const x = xy[2 * v], y = xy[2 * v + 1];
      const h = Math.min(edgeDistance(xy, prev, v, cx, cy), edgeDistance(xy, v, next, cx, cy));
      put(vertices, at++, x, y, xy[2 * prev], xy[2 * prev + 1], cx, cy, h);
      // triangle (centre, previous vertex, this vertex): this vertex is the last, whose flat
      // outputs (the edge from the previous vertex) the whole triangle gets
      indices[k++] = base;
      indices[k++] = base + 1 + ((j + n - 1) % n);
      indices[k++] = base + 1 + j;
    }
  }
  return { vertices, indices, rest };
}

function put(out: Float32Array, i: number, x: number, y: number, px: number, py: number, cx: number, cy: number, h: number): void {
  const o = FAN_STRIDE * i;
  out[o] = x; out[o + 1] = y; out[o + 2] = px; out[o + 3] = py; out[o + 4] = cx; out[o + 5] = cy; out[o + 6] = h;
}

/** Distance of (cx, cy) from the line through vertices a and b (Infinity for a repeated vertex). */
function edgeDistance(xy: Float32Array, a: number, b: number, cx: number, cy: number): number {
  const ex = xy[2 * b] - xy[2 * a], ey = xy[2 * b + 1] - xy[2 * a + 1];
  const len = Math.hypot(ex, ey);
  return len === 0 ? Infinity : Math.abs(ex * (cy - xy[2 * a + 1]) - ey * (cx - xy[2 * a])) / len;
}
