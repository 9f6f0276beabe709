// The part of the canvas the next frame must redraw: all of it, or only a box of screen pixels
// (the brush's dabs and outline). Under software WebGL a frame's time scales with the pixels
// drawn (a full 848 x 678 redraw: ~65 ms; docs/masks.md), so a brush move that redraws only the
// box it touched (a WebGL scissor over a drawing buffer kept between frames) costs only its dabs.

/** A box in CSS pixels of the canvas: [x0, y0, x1, y1], y down. */
export type ScreenBox = [number, number, number, number];

/** Pixels added around a box: the outline's anti-aliased edge and rounding. */
const MARGIN_PX = 3;

export class RedrawRegion {
  private box: ScreenBox | null = null;
  private full = false;

  /** Everything must be redrawn (the view, a layer, a tile or the canvas changed). */
  all(): void {
    this.full = true;
    this.box = null;
  }

  /** Only `box` changed (unless the whole canvas is due already). */
  add(box: ScreenBox): void {
    if (this.full) return;
    const b = this.box;
    this.box = b ? [Math.min(b[0], box[0]), Math.min(b[1], box[1]), Math.max(b[2], box[2]), Math.max(b[3], box[3])] : box;
  }

  /** What to redraw now, and reset: null for the whole canvas (also when no box was added: deck.gl
   * redraws on its own when a slide tile arrives), else the scissor rectangle in drawing-buffer
   * pixels (x, y from the bottom, width, height) for a canvas `cssSize` CSS pixels drawn into
   * `bufferSize` pixels. */
  take(cssSize: [number, number], bufferSize: [number, number]): [number, number, number, number] | null {
    const { full, box } = this;
    this.full = false;
    this.box = null;
    if (full || !box) return null;
    const [w, h] = cssSize, [bw, bh] = bufferSize;
    if (!(w > 0 && h > 0)) return null;
    const rx = bw / w, ry = bh / h;
    const x0 = Math.max(0, Math.floor((box[0] - MARGIN_PX) * rx));
    const x1 = Math.min(bw, Math.ceil((box[2] + MARGIN_PX) * rx));
    const y0 = Math.max(0, Math.floor((box[1] - MARGIN_PX) * ry));
    const y1 = Math.min(bh, Math.ceil((box[3] + MARGIN_PX) * ry));
    if (x1 <= x0 || y1 <= y0) return [0, 0, 1, 1];
    // WebGL counts rows from the bottom
    return [x0, bh - y1, x1 - x0, y1 - y0];
  }
}
