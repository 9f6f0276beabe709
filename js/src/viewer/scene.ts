// The deck.gl canvas of one view: the slide's tiles, the annotation layers, the selection, what
// is being drawn and the edit handles, at a resolution that drops while the view moves.
import { Deck, OrthographicView } from "@deck.gl/core";
import type { Layer } from "@deck.gl/core";
import { AnnotationRenderer } from "../render/annotations";
import { draftLayers } from "../render/draft";
import type { Texture } from "@luma.gl/core";
import { brushCursorLayer, maskLayers, superpixelLayer } from "../render/mask";
import { lumaSink, MaskTextures } from "../render/mask-textures";
import { RedrawRegion, ScreenBox } from "../render/redraw-region";
import type { WorldBox } from "../masks/painter";
import { slideLayer, TileStats } from "../render/tiles";
import type { TileSource } from "../transport/tiles";
import type { ViewerModel } from "./model";
import { MotionResolution } from "./motion";

/** Frame timestamps kept for debugging and benchmarks. */
const FRAME_TIMES = 600;

export class Scene {
  readonly renderer: AnnotationRenderer;
  /** the slide's tile source, once it has answered */
  source: TileSource | null = null;
  tileStats: TileStats = { loaded: 0, failed: 0, lastError: null };
  readonly frameTimes: number[] = [];
  private deck: Deck<OrthographicView>;
  private motion: MotionResolution;
  /** this view's textures of the mask tiles (once deck.gl has its device) */
  private maskTextures: MaskTextures<Texture> | null = null;
  /** what the next deck.gl render redraws: all, or only the brush's box */
  private region = new RedrawRegion();
  /** the brush outline's screen box in the last frame drawn (erased by the next) */
  private drawnCursor: ScreenBox | null = null;
  private drawnBuffer: [number, number] = [0, 0];
  /** frames drawn, and those of them that redrew only the brush's box (tests, benchmarks) */
  readonly frameCounts = { all: 0, brush: 0 };

  constructor(parent: HTMLDivElement, private model: ViewerModel, private requestFrame: () => void) {
    const session = model.session;
    this.renderer = new AnnotationRenderer(session.store, () => model.imageSize(), requestFrame);
    this.motion = new MotionResolution((scale) => this.applyResolution(scale));
    this.deck = new Deck<OrthographicView>({
      parent,
      views: new OrthographicView({ id: "ortho", flipY: true }),
      viewState: model.camera.viewState(),
      controller: false,
      layers: [],
      useDevicePixels: true,
      // 2D only, and often rasterised in software: no multisampling (4x the fragments), no
      // depth buffer; the drawing buffer is kept between frames, so a brush move redraws only
      // the box it touched (a scissor, `customRender`)
      deviceProps: { webgl: { antialias: false, depth: false, preserveDrawingBuffer: true } },
      _customRender: (reason: string) => this.customRender(reason),
      getCursor: () => model.cursorStyle(),
      onAfterRender: () => this.afterRender(),
      onDeviceInitialized: (device) => {
        this.maskTextures = new MaskTextures(lumaSink(device));
        requestFrame();
      },
      onError: (err: Error) => session.message(`rendering failed: ${err.message}`, "error"),
    });
  }

  destroy(): void {
    this.motion.destroy();
    this.maskTextures?.destroy();
    this.deck.finalize();
  }

  get lowRes(): boolean {
    return this.motion.lowRes;
  }

  /** The resolution drawn now (1: device pixels; lower while the view moves or the brush paints). */
  get resolution(): number {
    return this.motion.resolution;
  }

  /** A new slide or frame: no tiles until its source answers. */
  resetTiles(): void {
    this.source = null;
    this.tileStats = { loaded: 0, failed: 0, lastError: null };
  }

  cameraMoved(): void {
    this.motion.moved();
  }

  /** Draw the scene; `brushOnly`: nothing changed since the last frame but the brush (its outline
   * and the dabs painted in `painted`, level-0), so only their box is redrawn. */
  draw(brushOnly = false, painted: WorldBox | null = null): void {
    const m = this.model;
    const meta = m.meta;
    const c = m.camera;
    const layers: Layer[] = [];
    if (meta && this.source) layers.push(slideLayer(meta, this.source, m.frame, m.adjustments, this.tileStats, this.requestFrame));
    const view = { bounds: c.bounds(), scale: c.scale };
    // pixel labels: over the slide, under the vector annotations
    if (meta) {
      const s = m.session;
      const tiles = s.masks.visible(m.frame, m.painter.level(), view.bounds, [meta.width, meta.height]);
      if (this.maskTextures) layers.push(...maskLayers(tiles, m.widget.get("mask_opacity") ?? 0.5, this.maskTextures));
      layers.push(...superpixelLayer(s.superpixels));
    }
    const show = m.annotationsVisible;
    const metas = m.layers;
    layers.push(...this.renderer.layers(metas, view, show));
    if (show) layers.push(...this.renderer.selectionLayers(metas, view));
    const it = m.interaction;
    const target = it.editTarget();
    const av = it.activeVertex;
    let cursor: ScreenBox | null = null;
    if (m.interaction.tool === "brush" && m.cursor) {
      const r = m.brushRadius();
      layers.push(...brushCursorLayer(m.cursor.x, m.cursor.y, r));
      cursor = this.screenBox([m.cursor.x - r, m.cursor.y - r, m.cursor.x + r, m.cursor.y + r]);
    }
    if (brushOnly) {
      for (const b of [this.drawnCursor, cursor, painted && this.screenBox(painted)]) if (b) this.region.add(b);
    } else this.region.all();
    this.drawnCursor = cursor;
    layers.push(...draftLayers(m.painter.draft() ?? it.draft(), show ? it.handles() : [], av && target && av.id === target.id ? av.index : null));
    this.deck.setProps({ viewState: c.viewState(), layers });
  }

  private screenBox([x0, y0, x1, y1]: WorldBox): ScreenBox {
    const c = this.model.camera;
    const [sx0, sy0] = c.toScreen(x0, y0), [sx1, sy1] = c.toScreen(x1, y1);
    return [sx0, sy0, sx1, sy1];
  }

  /** deck.gl's render, restricted to the brush's box when that is all that changed. Clearing and
   * drawing under a scissor touch only its pixels (the rest of the kept buffer stays as drawn):
   * a brush move costs its dabs' pixels, not the canvas's (~65 ms for 848 x 678 in SwiftShader). */
  private customRender(reason: string): void {
    const canvas = this.deck.getCanvas();
    const buffer: [number, number] = canvas ? [canvas.width, canvas.height] : [0, 0];
    let scissor = canvas ? this.region.take([canvas.clientWidth, canvas.clientHeight], buffer) : null;
    // a resized drawing buffer starts empty
    if (buffer[0] !== this.drawnBuffer[0] || buffer[1] !== this.drawnBuffer[1]) scissor = null;
    this.drawnBuffer = buffer;
    this.frameCounts[scissor ? "brush" : "all"]++;
    // deck.gl's own render (Deck._drawLayers, 9.2) with LayersPass's scissorRect option
    (this.deck as any)._drawLayers(reason, scissor ? { scissorRect: scissor } : undefined);
  }

  private applyResolution(scale: number): void {
    this.deck.setProps({ useDevicePixels: scale === 1 ? true : (globalThis.devicePixelRatio || 1) * scale });
    // the new drawing buffer starts empty and luma.gl does not report this as a resize: draw now
    this.deck.redraw("resolution changed");
  }

  private afterRender(): void {
    const now = performance.now();
    const last = this.frameTimes[this.frameTimes.length - 1];
    this.motion.frame(last === undefined ? undefined : now - last);
    this.frameTimes.push(now);
    if (this.frameTimes.length > FRAME_TIMES) this.frameTimes.splice(0, FRAME_TIMES / 2);
    const s = this.model.session;
    if (s.store.complete && !s.timing.reported && !this.renderer.busy) s.reportDrawn();
  }
}
