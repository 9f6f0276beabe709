// What changed in a mask tile's colours since a reader last looked: a version number and the
// boxes painted at each version. Each view of a session keeps its own texture of the tile, so each
// asks "what changed since version v" and uploads just that box (texSubImage2D) rather than the
// whole 512 x 512 RGBA tile: a new texture per move (and its mipmaps) is what made brush frames
// cost ~85 ms of software WebGL (docs/masks.md, "Measured: brush frame rate").

/** Pixel box [i0, j0, i1, j1) of a tile. */
export type Box = [number, number, number, number];

/** Boxes remembered; a reader further behind redraws the whole tile (a few times a session). */
const KEPT = 64;

export function unionBox(a: Box | null, b: Box | null): Box | null {
  if (!a) return b;
  if (!b) return a;
  return [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[2], b[2]), Math.max(a[3], b[3])];
}

export class DirtyLog {
  /** bumped by every change; 0: nothing drawn yet */
  version = 0;
  private boxes: { version: number; box: Box | "all" }[] = [];

  /** `box` of the tile changed (`"all"`: the whole tile, e.g. new labels or new colours). */
  mark(box: Box | "all"): void {
    this.version++;
    this.boxes.push({ version: this.version, box });
    if (this.boxes.length > KEPT) this.boxes.splice(0, this.boxes.length - KEPT);
  }

  /** What changed after `version`: null (nothing), a box, or "all" (the whole tile, also when
   * the reader is further behind than the boxes kept). */
  since(version: number): Box | "all" | null {
    if (version >= this.version) return null;
    const first = this.boxes[0];
    if (!first || first.version > version + 1) return "all";
    let out: Box | null = null;
    for (const e of this.boxes) {
      if (e.version <= version) continue;
      if (e.box === "all") return "all";
      out = unionBox(out, e.box);
    }
    return out;
  }
}

/** The RGBA bytes of `box` from an image `width` pixels wide, rows packed (what texSubImage2D
 * takes without UNPACK_ROW_LENGTH). */
export function cropRgba(rgba: Uint8ClampedArray, width: number, box: Box): Uint8ClampedArray<ArrayBuffer> {
  const [i0, j0, i1, j1] = box;
  const w = i1 - i0;
  const out = new Uint8ClampedArray(w * (j1 - j0) * 4);
  for (let j = j0; j < j1; j++) out.set(rgba.subarray((j * width + i0) * 4, (j * width + i1) * 4), (j - j0) * w * 4);
  return out;
}
