// Polygon vertices from int16 steps (the kernel's half is exact_lab/widgets/steps.py): each ring
// is runs of vertices, each run an exact float32 start and int16 (dx, dy) steps on a 1/1024 px
// grid, rounded from the run's start so a vertex is within 1/2048 px of the kernel's (half the
// bytes of float32 vertices: 72 MB instead of 136 MB for a million 16-vertex cells).

/** Grid steps per level-0 pixel. */
export const STEP_SCALE = 1024;
/** A step's x: this vertex starts a new run, its value is the next of the starts. */
export const ESCAPE = -32768;

/** Float32 vertices (2 per vertex) of rings cut at `ringOffsets` (from 0). */
export function decodeRings(starts: Float32Array, steps: Int16Array, ringOffsets: Uint32Array): Float32Array {
  const rings = ringOffsets.length - 1;
  const out = new Float32Array(2 * (rings >= 0 ? ringOffsets[rings] : 0));
  const inv = 1 / STEP_SCALE; // exact: a power of two
  let s = 0, k = 0;
  for (let r = 0; r < rings; r++) {
    const a = ringOffsets[r], b = ringOffsets[r + 1];
    if (a >= b) continue;
    let bx = starts[2 * s], by = starts[2 * s + 1];
    s++;
    let qx = 0, qy = 0;
    out[2 * a] = bx;
    out[2 * a + 1] = by;
    for (let v = a + 1; v < b; v++, k++) {
      const dx = steps[2 * k];
      if (dx === ESCAPE) {
        bx = starts[2 * s];
        by = starts[2 * s + 1];
        s++;
        qx = qy = 0;
      } else {
        qx += dx;
        qy += steps[2 * k + 1];
      }
      out[2 * v] = bx + qx * inv;
      out[2 * v + 1] = by + qy * inv;
    }
  }
  if (s !== starts.length / 2 || 2 * k !== steps.length)
    throw new Error(`polygon chunk: ${starts.length / 2} run starts and ${steps.length / 2} steps for ${rings} rings, used ${s} and ${k}`);
  return out;
}
