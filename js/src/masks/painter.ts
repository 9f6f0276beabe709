// The brush, fill and superpixel tools: pointer input → paint at once in the browser (brush at
// each frame while it moves, fill on release) and a message to the kernel on release (`mask_stroke`, `mask_polygon`,
// `superpixel_fill`). A left drag paints the current mask class, a right drag erases (class 0).
// Knows the view only through `MaskHost`.
import type { Camera } from "../camera";
import type { TypeMeta } from "../protocol";
import type { Draft, Pointer } from "../tools/context";
import type { MaskTiles } from "./tiles";
import { levelFor, topLevel } from "./tiles";

export type MaskTool = "brush" | "fill" | "superpixel";
/** A box of level-0 pixels: [x0, y0, x1, y1]. */
export type WorldBox = [number, number, number, number];
export type MaskEditKind = "mask_stroke" | "mask_polygon" | "superpixel_fill";
const EDIT_OF: Record<MaskTool, MaskEditKind> = { brush: "mask_stroke", fill: "mask_polygon", superpixel: "superpixel_fill" };

export interface MaskHost {
  camera: Camera;
  tiles: MaskTiles;
  frame(): number;
  imageSize(): [number, number];
  /** the mask type painted, or null (with a message saying why) */
  maskType(): TypeMeta | null;
  /** the brush radius in level-0 pixels */
  radius(): number;
  hasSuperpixels(): boolean;
  send(kind: MaskEditKind, value: number, points: number[], radius: number): void;
  message(text: string, level?: "info" | "warn" | "error"): void;
}

export class MaskPainter {
  private stroke: { tool: MaskTool; value: number; points: number[]; radius: number } | null = null;
  /** flat index of the stroke's last painted vertex (-2: none yet): moves since are painted at
   * the next frame */
  private paintedTo = 0;

  constructor(private host: MaskHost) {}

  get active(): boolean {
    return this.stroke !== null;
  }

  /** The level the view shows (the tiles a stroke paints into at once). */
  level(): number {
    const [w, h] = this.host.imageSize();
    return levelFor(this.host.camera.scale, topLevel(w, h));
  }

  down(tool: MaskTool, p: Pointer, button: number): void {
    const erase = button === 2;
    const type = erase ? null : this.host.maskType();
    if (!erase && !type) return;
    if (tool === "superpixel" && !this.host.hasSuperpixels()) {
      this.host.message("no superpixels yet: press the superpixel button (or viewer.superpixels()) first", "warn");
      return;
    }
    const value = erase ? 0 : (type!.type_id as number);
    this.stroke = { tool, value, points: [p.x, p.y], radius: this.host.radius() };
    // the first disc is painted by the next flush, before the frame is drawn
    this.paintedTo = -2;
  }

  move(p: Pointer): void {
    const s = this.stroke;
    if (!s) return;
    const n = s.points.length;
    // a new vertex once the pointer has moved a screen pixel: the stroke stays lossless to the eye
    // and the polyline short
    const minStep = 1 / this.host.camera.scale;
    if (Math.hypot(p.x - s.points[n - 2], p.y - s.points[n - 1]) < minStep) return;
    s.points.push(p.x, p.y);
  }

  /** Paint the brush segments added since the last call, as one polyline: called once per
   * animation frame, as the pointer sends several moves a frame and each paint marks textures to
   * upload. The pixels are the same as one segment at a time (a pixel is in if any segment is near). */
  flush(): WorldBox | null {
    const s = this.stroke;
    if (!s || s.tool !== "brush" || s.points.length - 2 <= this.paintedTo) return null;
    const box = this.paint(Math.max(0, this.paintedTo));
    this.paintedTo = s.points.length - 2;
    return box;
  }

  /** The tool of the drag in progress, or null. */
  get tool(): MaskTool | null {
    return this.stroke?.tool ?? null;
  }

  up(p: Pointer): void {
    this.move(p);
    this.finish();
  }

  /** The pointer was lost: what was drawn so far is kept and sent. */
  cancel(): void {
    this.finish();
  }

  /** The fill tool's outline while it is drawn (closed by the draft layer). */
  draft(): Draft | null {
    const s = this.stroke;
    return s && s.tool === "fill" ? { kind: "lasso", coords: s.points } : null;
  }

  private finish(): void {
    this.flush();
    const s = this.stroke;
    this.stroke = null;
    this.host.tiles.active = null;
    if (!s) return;
    if (s.tool === "fill") {
      if (s.points.length < 6) {
        this.host.message("fill: drag an outline around the region (a click fills nothing)", "warn");
        return;
      }
      this.host.tiles.paintRegion(this.host.frame(), this.level(), s.points, s.value);
    }
    this.host.send(EDIT_OF[s.tool], s.value, s.points, s.radius);
  }

  /** Paint the stroke's segments from vertex `from` (flat index) on; the level-0 box they cover. */
  private paint(from: number): WorldBox {
    const s = this.stroke!;
    const level = this.level();
    const frame = this.host.frame();
    const points = s.points.slice(from);
    this.host.tiles.active = { frame, level, points: s.points, radius: s.radius, value: s.value };
    this.host.tiles.paint(frame, level, points, s.radius, s.value);
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (let k = 0; k < points.length; k += 2) {
      x0 = Math.min(x0, points[k]);
      x1 = Math.max(x1, points[k]);
      y0 = Math.min(y0, points[k + 1]);
      y1 = Math.max(y1, points[k + 1]);
    }
    // a label covers 2**level level-0 pixels: a painted one reaches up to that beyond the radius
    const r = s.radius + (1 << level);
    return [x0 - r, y0 - r, x1 + r, y1 + r];
  }
}
