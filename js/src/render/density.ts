// "A million cells are a density": when a layer has more shapes in view than can usefully be
// drawn, it is shown as counts per cell over the slide, coloured with the layer's colour.
import type { AnnotationStore } from "../data/store";
import type { RGBA } from "./colors";

const MAX_SIDE = 1024;
/** smallest cell on screen, in screen pixels: finer is noise, not density */
const MIN_CELL_PX = 4;

/** Cell size (level-0 pixels, a power of two) for a density map seen at `scale`. */
export function densityCell(width: number, height: number, scale: number): number {
  const want = Math.max(Math.max(width, height) / MAX_SIDE, MIN_CELL_PX / scale, 1);
  return 2 ** Math.ceil(Math.log2(want));
}

export interface DensityMap {
  canvas: HTMLCanvasElement;
  bounds: [number, number, number, number];
  version: number;
  color: string;
  cell: number;
}

export function buildDensity(store: AnnotationStore, key: string, width: number, height: number, color: RGBA, cell: number): DensityMap {
  const nx = Math.max(1, Math.ceil(width / cell)), ny = Math.max(1, Math.ceil(height / cell));
  const counts = new Uint32Array(nx * ny);
  let max = 0;
  store.forEachCenter(key, (x, y) => {
    const cx = Math.min(nx - 1, Math.max(0, (x / cell) | 0));
    const cy = Math.min(ny - 1, Math.max(0, (y / cell) | 0));
    const v = ++counts[cy * nx + cx];
    if (v > max) max = v;
  });
  const canvas = document.createElement("canvas");
  canvas.width = nx;
  canvas.height = ny;
  const ctx = canvas.getContext("2d")!;
  const img = ctx.createImageData(nx, ny);
  const logMax = Math.log1p(max || 1);
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    if (!c) continue;
    const t = Math.log1p(c) / logMax;
    img.data[4 * i] = color[0];
    img.data[4 * i + 1] = color[1];
    img.data[4 * i + 2] = color[2];
    img.data[4 * i + 3] = Math.round(255 * (0.25 + 0.7 * t));
  }
  ctx.putImageData(img, 0, 0);
  return { canvas, bounds: [0, 0, nx * cell, ny * cell], version: store.layers.get(key)?.version ?? 0, color: "", cell };
}
