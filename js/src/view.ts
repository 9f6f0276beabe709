// One view of the SlideViewer widget: the viewer model (viewer/model.ts) with the DOM bound to
// it: the deck.gl canvas (viewer/scene.ts), the chrome around it (viewer/chrome.ts), pointer and
// keyboard input (viewer/pointer.ts, viewer/keys.ts). The view listens to the model and draws;
// data lives in the Session shared by every view of the same widget model.
import type { Camera } from "./camera";
import type { KeyAction } from "./keyboard";
import type { LayerMeta, SourceMeta, TypeMeta } from "./protocol";
import type { AnnotationRenderer } from "./render/annotations";
import type { TileStats } from "./render/tiles";
import type { Session } from "./session/session";
import type { ToolName } from "./tools/context";
import type { Interaction } from "./tools/interaction";
import type { TileSource } from "./transport/tiles";
import { h, injectStyle } from "./ui/style";
import { ViewPanel } from "./ui/view-panel";
import { Chrome } from "./viewer/chrome";
import { HpfReadout } from "./viewer/hpf";
import { bindKeys } from "./viewer/keys";
import { ViewerModel } from "./viewer/model";
import { bindPointer } from "./viewer/pointer";
import { Scene } from "./viewer/scene";
import type { ViewerTraits } from "./widget-model";

declare global {
  /** Debug and benchmark hook: every live view on the page. */
  var __exactLabViewers: Set<ViewerView> | undefined;
}
const registry = (globalThis.__exactLabViewers ??= new Set<ViewerView>());

export class ViewerView {
  readonly root: HTMLDivElement;
  readonly model: ViewerModel;
  private canvasBox: HTMLDivElement;
  private scene: Scene;
  private chrome: Chrome;
  private viewPanel = new ViewPanel();
  private hpf: HpfReadout;
  private frameRequested = false;
  /** the frame requested redraws everything (not only the brush) */
  private fullFrame = false;
  private offs: (() => void)[] = [];
  private resizeObserver: ResizeObserver;

  constructor(readonly session: Session, el: HTMLElement) {
    injectStyle();
    const model = (this.model = new ViewerModel(session));
    const traits = session.model;
    this.root = h("div", { class: "xl-root", tabIndex: 0, "data-lm-suppress-shortcuts": "true" });
    this.root.style.height = traits.get("height") || "600px";
    this.canvasBox = h("div", { class: "xl-canvas" });
    this.root.append(this.canvasBox);
    this.chrome = new Chrome(this.root, model, () => this.focus());
    this.root.append(this.viewPanel.el);
    this.viewPanel.show(traits.get("_panel") || "");
    this.hpf = new HpfReadout(session.store, traits);
    this.root.append(this.hpf.el);
    el.append(this.root);
    this.scene = new Scene(this.canvasBox, model, () => this.requestFrame());

    bindPointer(this.root, this.canvasBox, model);
    bindKeys(this.root, model);
    this.bindTraits();
    this.offs.push(model.on((e) => {
      // a fill outline or a superpixel drag redraws the whole canvas every frame as panning does:
      // the same dynamic resolution (software WebGL spends ~65 ms a frame sampling the slide and
      // mask textures of a 848 x 678 canvas, ~20 ms at half resolution: docs/masks.md); a brush
      // move redraws only its box, at full resolution
      if (e === "camera" || e === "paint") this.scene.cameraMoved();
      if (e === "tool") this.focus(); // keys keep working after a click on a button
      this.requestFrame(e === "brush");
    }));
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(this.canvasBox);
    this.resize();
    this.offs.push(session.on((what) => {
      if (what === "tiles") this.onSource();
      this.requestFrame();
    }));
    this.onSource();
    registry.add(this);
  }

  destroy(): void {
    registry.delete(this);
    for (const off of this.offs) off();
    this.resizeObserver.disconnect();
    this.model.destroy();
    this.hpf.destroy();
    this.scene.destroy();
    this.root.remove();
  }

  // -- what tests, benchmarks and the console read ---------------------------------------------------
  get camera(): Camera {
    return this.model.camera;
  }

  get interaction(): Interaction {
    return this.model.interaction;
  }

  get renderer(): AnnotationRenderer {
    return this.scene.renderer;
  }

  get source(): TileSource | null {
    return this.scene.source;
  }

  get tileStats(): TileStats {
    return this.scene.tileStats;
  }

  get frameTimes(): number[] {
    return this.scene.frameTimes;
  }

  get lowRes(): boolean {
    return this.scene.lowRes;
  }

  get resolution(): number {
    return this.scene.resolution;
  }

  /** Frames drawn whole and frames that redrew only the brush's box. */
  get frameCounts(): { all: number; brush: number } {
    return this.scene.frameCounts;
  }

  /** The tiles the overview map shows as screened. */
  get screenedOnOverview(): number[] {
    return this.chrome.screenedOnOverview;
  }

  get meta(): SourceMeta | null {
    return this.model.meta;
  }

  get layers(): LayerMeta[] {
    return this.model.layers;
  }

  get types(): TypeMeta[] {
    return this.model.types;
  }

  layerMeta(key: string): LayerMeta | undefined {
    return this.model.layerMeta(key);
  }

  act(a: KeyAction): void {
    this.model.act(a);
  }

  setTool(t: ToolName): void {
    this.model.setTool(t);
  }

  // -- drawing -----------------------------------------------------------------------------------------
  /** A frame at the next animation frame; `brushOnly`: only the brush changed (its outline or
   * its stroke), unless something else asks for a frame meanwhile. */
  requestFrame(brushOnly = false): void {
    if (!brushOnly) this.fullFrame = true;
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame(() => {
      // the brush moves of this frame, painted at once (before the flags drop: painting the tiles
      // asks for the frame being drawn, and for a whole one, which the brush's box stands for)
      const full = this.fullFrame;
      const painted = this.model.painter.flush();
      this.frameRequested = false;
      this.fullFrame = false;
      this.scene.draw(!full, painted);
      this.chrome.update(this.scene);
    });
  }

  private focus(): void {
    this.root.focus({ preventScroll: true });
  }

  private bindTraits(): void {
    const m = this.session.model;
    const on = (name: keyof ViewerTraits, fn: () => void) => {
      m.on(`change:${name}`, fn);
      this.offs.push(() => m.off(`change:${name}`, fn));
    };
    on("_source", () => this.onSource());
    on("frame", () => this.onSource());
    on("_layers", () => this.requestFrame());
    on("_types", () => this.requestFrame());
    on("annotations_visible", () => this.requestFrame());
    on("_screening", () => this.requestFrame());
    on("_review", () => this.requestFrame());
    on("_strip", () => this.requestFrame());
    on("height", () => (this.root.style.height = m.get("height") || "600px"));
    on("_panel", () => this.viewPanel.show(m.get("_panel") || ""));
  }

  private resize(): void {
    const r = this.canvasBox.getBoundingClientRect();
    this.model.resize(r.width, r.height);
  }

  /** A new slide, frame or tile source: tiles (and the overview) once the source answers. */
  private onSource(): void {
    const meta = this.meta;
    this.scene.resetTiles();
    if (!meta) return;
    const tiles = this.session.tiles;
    this.chrome.showBanner(this.session.tileError);
    tiles?.then((src) => {
      if (this.session.tiles !== tiles) return;
      this.scene.source = src;
      this.chrome.showBanner(null);
      this.chrome.showOverview(meta, src);
      this.requestFrame();
    }, () => this.chrome.showBanner(this.session.tileError));
    this.requestFrame();
  }
}
