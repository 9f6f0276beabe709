// Overview map: the whole slide from one low-resolution tile, the current view as a rectangle;
// click or drag on it to move there.
import type { Camera } from "../camera";
import type { SourceMeta } from "../protocol";
import { tileBounds } from "../review/screening";
import type { TileSource } from "../transport/tiles";
import type { ScreeningState } from "../widget-model";
import { h } from "./style";

const SIZE = 170;

export class Overview {
  el: HTMLCanvasElement;
  private thumb: ImageBitmap | null = null;
  private scale = 1;
  private dragging = false;

  constructor(private meta: SourceMeta, private camera: Camera, private onMove: () => void,
              private screening: () => ScreeningState | null = () => null) {
    this.scale = SIZE / Math.max(meta.width, meta.height);
    this.el = h("canvas", { class: "xl-overview", title: "overview: click to jump" });
    this.el.width = Math.max(1, Math.round(meta.width * this.scale));
    this.el.height = Math.max(1, Math.round(meta.height * this.scale));
    const jump = (e: PointerEvent) => {
      const r = this.el.getBoundingClientRect();
      this.camera.cx = (e.clientX - r.left) / this.scale;
      this.camera.cy = (e.clientY - r.top) / this.scale;
      this.onMove();
    };
    this.el.addEventListener("pointerdown", (e) => {
      e.stopPropagation();
      this.dragging = true;
      this.el.setPointerCapture(e.pointerId);
      jump(e);
    });
    this.el.addEventListener("pointermove", (e) => this.dragging && jump(e));
    this.el.addEventListener("pointerup", () => (this.dragging = false));
  }

  async load(source: TileSource, frame: number): Promise<void> {
    const m = this.meta;
    const steps = Math.ceil(Math.log2(Math.max(1, Math.max(m.width, m.height) / m.tile_size)));
    const level = Math.max(0, m.max_level - steps);
    try {
      this.thumb = await source.fetchTile(level, 0, 0, frame);
    } catch {
      this.thumb = null;
    }
    this.draw();
  }

  draw(): void {
    const ctx = this.el.getContext("2d")!;
    const { width, height } = this.el;
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, width, height);
    if (this.thumb) ctx.drawImage(this.thumb, 0, 0, width, height);
    this.drawScreening(ctx);
    const [x0, y0, x1, y1] = this.camera.bounds();
    ctx.strokeStyle = "#ff3b3b";
    ctx.lineWidth = 1.5;
    const rx = Math.max(0, x0 * this.scale), ry = Math.max(0, y0 * this.scale);
    const rw = Math.min(width, x1 * this.scale) - rx, rh = Math.min(height, y1 * this.scale) - ry;
    ctx.strokeRect(rx + 0.5, ry + 0.5, Math.max(2, rw - 1), Math.max(2, rh - 1));
  }

  /** Screened tiles shaded green, the current one outlined in yellow. */
  private drawScreening(ctx: CanvasRenderingContext2D): void {
    const g = this.screening();
    if (!g) return;
    const k = this.scale;
    ctx.fillStyle = "rgba(34, 197, 94, 0.45)";
    for (const t of g.visited) {
      const [x0, y0, x1, y1] = tileBounds(g, t);
      ctx.fillRect(x0 * k, y0 * k, (x1 - x0) * k, (y1 - y0) * k);
    }
    const [x0, y0, x1, y1] = tileBounds(g, g.current);
    ctx.strokeStyle = "#facc15";
    ctx.lineWidth = 2;
    ctx.strokeRect(x0 * k + 1, y0 * k + 1, Math.max(2, (x1 - x0) * k - 2), Math.max(2, (y1 - y0) * k - 2));
  }

  /** The screened tiles as drawn (tests read this instead of pixels). */
  get screened(): number[] {
    return this.screening()?.visited ?? [];
  }
}
