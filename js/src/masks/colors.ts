// The colours of the pixel-label layer: a class index (a mask type's type_id) → RGBA, from the
// types' colours; unlabelled (0) is transparent. The layer's opacity is applied by deck.gl.
import type { TypeMeta } from "../protocol";

/** "#rrggbb" or "#rgb" → [r, g, b]; anything else is grey (and said nowhere: a colour is cosmetic). */
export function parseColor(c: string): [number, number, number] {
  const m = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(c.trim());
  if (!m) return [128, 128, 128];
  const h = m[1].length === 3 ? [...m[1]].map((x) => x + x).join("") : m[1];
  return [parseInt(h.slice(0, 2), 16), parseInt(h.slice(2, 4), 16), parseInt(h.slice(4, 6), 16)];
}

/** The mask types of `types` (vector type "mask" with a numeric type_id). */
export function maskTypes(types: TypeMeta[]): TypeMeta[] {
  return types.filter((t) => t.vector_type === "mask" && typeof t.type_id === "number");
}

/** Class index → packed RGBA (little-endian Uint32, as an ImageData's bytes read as Uint32). A
 * class without a type (deleted since it was painted) is drawn grey. */
export class ClassColors {
  private lut: Uint32Array;
  private fallback = pack(128, 128, 128, 255);

  constructor(types: TypeMeta[]) {
    const masks = maskTypes(types);
    const top = masks.reduce((m, t) => Math.max(m, t.type_id as number), 0);
    this.lut = new Uint32Array(Math.min(65536, top + 1));
    this.lut.fill(this.fallback);
    this.lut[0] = 0;
    for (const t of masks) {
      const [r, g, b] = parseColor(t.color);
      this.lut[t.type_id as number] = pack(r, g, b, 255);
    }
  }

  rgba(cls: number): number {
    return cls < this.lut.length ? this.lut[cls] : this.fallback;
  }

  /** Colour the box [i0, j0, i1, j1) of `labels` (width `w`) into `out` (RGBA bytes of the same size). */
  paint(labels: Uint8Array | Uint16Array, w: number, out: Uint8ClampedArray, box: [number, number, number, number]): void {
    const px = new Uint32Array(out.buffer, out.byteOffset, out.byteLength >> 2);
    const [i0, j0, i1, j1] = box;
    for (let j = j0; j < j1; j++) for (let i = j * w + i0, e = j * w + i1; i < e; i++) px[i] = this.rgba(labels[i]);
  }
}

function pack(r: number, g: number, b: number, a: number): number {
  return ((a << 24) | (b << 16) | (g << 8) | r) >>> 0;
}
