// The model of one view of the SlideViewer: its camera, the tool state, the annotation type being
// drawn, and every action that a key, a button or the pointer triggers. Plain TypeScript, no DOM
// (tested in Node): it changes the session and the widget's traits and tells its listeners what
// changed; the view (view.ts) listens, draws and binds the DOM's input to it.
import { Camera } from "../camera";
import type { KeyAction } from "../keyboard";
import type { LayerMeta, Shape, SourceMeta, TypeMeta } from "../protocol";
import type { Adjustments } from "../render/adjust";
import type { Session } from "../session/session";
import { MaskPainter, MaskTool } from "../masks/painter";
import { maskTypes } from "../masks/colors";
import { isDrawTool, isMaskTool, isTool, mintUuid, Pointer, ToolContext, ToolName, toolForVectorType } from "../tools/context";
import { Interaction } from "../tools/interaction";
import type { Goto, ViewerWidgetModel } from "../widget-model";
import { runAction } from "./actions";

/** "render": something drawn changed; "camera": the view moved; "paint": a fill outline or
 * superpixel drag moved; "brush": only the brush changed (a stroke's move, or its outline
 * following the pointer); "tool": the user chose a tool. */
export type ViewerEvent = "render" | "camera" | "paint" | "brush" | "tool";

/** The pointer on the canvas in screen pixels, before it is placed on the image. */
export interface ScreenPointer {
  sx: number;
  sy: number;
  shift: boolean;
  alt: boolean;
  ctrl: boolean;
}

/** The camera reaches the kernel's `view` trait this long after it stops moving. */
const VIEW_TRAIT_DELAY_MS = 200;

export class ViewerModel {
  readonly camera = new Camera();
  readonly interaction: Interaction;
  /** index in `types` of the annotation type new shapes get */
  currentType: number | null = null;
  /** the pointer's last position, for the status line */
  cursor: Pointer | null = null;
  adjustments: Adjustments;
  /** the brush and superpixel tools (masks/painter.ts) */
  readonly painter: MaskPainter;
  private lastDrawTool: ToolName = "box";
  private fitted = false;
  private lastGoto: Goto | null = null;
  private viewTimer: ReturnType<typeof setTimeout> | null = null;
  private listeners = new Set<(e: ViewerEvent) => void>();
  private offs: (() => void)[] = [];

  constructor(readonly session: Session) {
    this.adjustments = this.readAdjustments();
    this.interaction = new Interaction(this.toolContext());
    this.painter = new MaskPainter({
      camera: this.camera,
      tiles: session.masks,
      frame: () => this.frame,
      imageSize: () => this.imageSize(),
      maskType: () => this.maskType(),
      radius: () => this.brushRadius(),
      hasSuperpixels: () => session.superpixels !== null,
      send: (kind, value, points, radius) => session.sendMaskEdit(kind, value, points, radius, this.frame),
      message: (text, level) => session.message(text, level),
    });
    const tool = this.widget.get("tool");
    this.interaction.tool = isTool(tool) ? tool : "pan";
    this.bindTraits();
    this.offs.push(session.on((what) => {
      if (what === "selection") this.interaction.activeVertex = null;
    }));
    this.sourceChanged();
  }

  destroy(): void {
    for (const off of this.offs) off();
    if (this.viewTimer) clearTimeout(this.viewTimer);
    this.listeners.clear();
  }

  on(fn: (e: ViewerEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(e: ViewerEvent): void {
    for (const fn of this.listeners) fn(e);
  }

  // -- what the widget's traits say ----------------------------------------------------------------
  /** the anywidget model: traits and custom messages */
  get widget(): ViewerWidgetModel {
    return this.session.model;
  }

  get meta(): SourceMeta | null {
    return this.session.meta;
  }

  get layers(): LayerMeta[] {
    return this.widget.get("_layers") || [];
  }

  get types(): TypeMeta[] {
    return this.widget.get("_types") || [];
  }

  get frame(): number {
    return this.widget.get("frame") || 0;
  }

  get frames(): number {
    return this.meta?.frames ?? 1;
  }

  get annotationsVisible(): boolean {
    return this.widget.get("annotations_visible") !== false;
  }

  imageSize(): [number, number] {
    const m = this.meta;
    return m ? [m.width, m.height] : [1, 1];
  }

  layerMeta(key: string): LayerMeta | undefined {
    return this.layers.find((l) => l.key === key);
  }

  editable(s: Shape): boolean {
    return !!this.layerMeta(s.layer)?.editable && this.widget.get("editable") !== false;
  }

  private readAdjustments(): Adjustments {
    const m = this.widget;
    const ch = m.get("channels") || [true, true, true];
    return { brightness: m.get("brightness") ?? 0, contrast: m.get("contrast") ?? 1, gamma: m.get("gamma") ?? 1, channels: [!!ch[0], !!ch[1], !!ch[2]] };
  }

  private bindTraits(): void {
    const m = this.widget;
    const on = (name: "tool" | "brightness" | "contrast" | "gamma" | "channels" | "_goto" | "_source", fn: () => void) => {
      m.on(`change:${name}`, fn);
      this.offs.push(() => m.off(`change:${name}`, fn));
    };
    on("tool", () => {
      const t = m.get("tool");
      if (isTool(t) && t !== this.interaction.tool) this.interaction.setTool(t);
      this.emit("render");
    });
    for (const name of ["brightness", "contrast", "gamma", "channels"] as const)
      on(name, () => {
        this.adjustments = this.readAdjustments();
        this.emit("render");
      });
    on("_goto", () => this.applyGoto());
    on("_source", () => this.sourceChanged());
  }

  // -- camera ----------------------------------------------------------------------------------------
  /** The canvas has a new size (screen pixels); the first size with an image fits it. */
  resize(width: number, height: number): void {
    if (width < 2 || height < 2) return;
    this.camera.width = width;
    this.camera.height = height;
    if (!this.fitted && this.meta) this.fitImage();
    this.emit("render");
  }

  private sourceChanged(): void {
    const meta = this.meta;
    if (!meta) return;
    this.camera.minZoom = Math.log2(Math.min(0.5, 64 / Math.max(meta.width, meta.height)));
    if (!this.fitted && this.camera.width > 1) this.fitImage();
  }

  /** Show the whole image (and then where `_goto` points, if it does). */
  fitImage(): void {
    const [w, h] = this.imageSize();
    this.camera.fit([0, 0, w, h]);
    this.fitted = true;
    if (this.widget.get("_goto")) this.applyGoto(true);
    else this.cameraChanged();
  }

  private applyGoto(initial = false): void {
    const g = this.widget.get("_goto");
    if (!g || (g === this.lastGoto && !initial)) return;
    this.lastGoto = g;
    if ("bbox" in g) this.camera.fit(g.bbox, 0);
    else this.camera.goto(g.x, g.y, g.scale);
    // a move from Python is a move: the kernel's `view` (and its on_view panel) follows it too
    this.cameraChanged();
  }

  /** The camera moved: draw, and tell the kernel where the view is once it rests. */
  cameraChanged(): void {
    this.emit("camera");
    this.emit("render");
    if (this.viewTimer) clearTimeout(this.viewTimer);
    this.viewTimer = setTimeout(() => {
      this.viewTimer = null;
      const c = this.camera;
      const [x0, y0, x1, y1] = c.bounds();
      this.widget.set("view", { x: c.cx, y: c.cy, scale: c.scale, bounds: [x0, y0, x1, y1], width: c.width, height: c.height });
      this.widget.save_changes();
    }, VIEW_TRAIT_DELAY_MS);
  }

  // -- pointer ---------------------------------------------------------------------------------------
  /** A screen position placed on the image (level-0 pixels). */
  pointer(s: ScreenPointer): Pointer {
    const [x, y] = this.camera.toWorld(s.sx, s.sy);
    return { sx: s.sx, sy: s.sy, x, y, shift: s.shift, alt: s.alt, ctrl: s.ctrl };
  }

  /** The mask tool in use, when the pointer goes to the painter rather than the shape tools
   * (Space and the middle button still pan). */
  private maskTool(button = 0): MaskTool | null {
    const t = this.interaction.tool;
    return isMaskTool(t) && !this.interaction.spaceDown && button !== 1 ? t : null;
  }

  pointerDown(s: ScreenPointer, button: number): void {
    this.cursor = this.pointer(s);
    const mt = this.maskTool(button);
    if (mt) {
      if (this.widget.get("editable") === false) this.session.message("this viewer is read-only", "warn");
      else this.painter.down(mt, this.cursor, button);
      this.emit("render");
      return;
    }
    this.interaction.down(this.cursor, button);
    this.cameraChanged();
  }

  pointerMove(s: ScreenPointer): void {
    this.cursor = this.pointer(s);
    if (this.painter.active) {
      this.painter.move(this.cursor);
      this.emit(this.painter.tool === "brush" ? "brush" : "paint");
      if (this.painter.tool !== "brush") this.emit("render");
      return;
    }
    const { cx, cy } = this.camera;
    this.interaction.move(this.cursor);
    if (cx !== this.camera.cx || cy !== this.camera.cy) this.cameraChanged();
    else this.emit(this.interaction.tool === "brush" && !this.interaction.spaceDown ? "brush" : "render");
  }

  pointerUp(s: ScreenPointer): void {
    this.cursor = this.pointer(s);
    if (this.painter.active) {
      this.painter.up(this.cursor);
      this.emit("render");
      return;
    }
    this.interaction.up(this.cursor);
    this.emit("render");
  }

  pointerCancel(): void {
    this.painter.cancel();
    this.interaction.cancel();
  }

  doubleClick(s: ScreenPointer): void {
    this.interaction.dblclick(this.pointer(s));
  }

  /** Zoom by `dz` (log2 units) about the pointer. */
  wheel(s: ScreenPointer, dz: number): void {
    if (s.shift && this.interaction.tool === "brush") {
      // Shift + wheel: the brush grows or shrinks by up to a factor of 2 per notch
      this.setBrushRadius(this.widget.get("brush_radius") * 2 ** dz);
      this.cursor = this.pointer(s);
      this.emit("render");
      return;
    }
    this.camera.zoomAt(s.sx, s.sy, dz);
    this.cursor = this.pointer(s);
    this.cameraChanged();
  }

  /** Space held: every tool pans. */
  setSpace(down: boolean): void {
    this.interaction.spaceDown = down;
  }

  // -- pixel labels --------------------------------------------------------------------------------------
  /** The brush radius in level-0 pixels (`brush_radius` in `brush_units`). */
  brushRadius(): number {
    const r = this.widget.get("brush_radius") || 20;
    return this.widget.get("brush_units") === "screen" ? r / this.camera.scale : r;
  }

  setBrushRadius(r: number): void {
    this.widget.set("brush_radius", Math.max(0.5, Math.min(5000, Math.round(r * 10) / 10)));
    this.widget.save_changes();
    this.emit("render");
  }

  /** The mask type the brush paints: the current type if it is one, else the first mask type. */
  maskType(): TypeMeta | null {
    const masks = maskTypes(this.types);
    const cur = this.currentType !== null ? this.types[this.currentType] : undefined;
    if (cur && masks.includes(cur)) return cur;
    if (!masks.length) {
      this.session.message('no mask type: add one with proj.add_annotation_type(name, "mask")', "warn");
      return null;
    }
    return masks[0];
  }

  /** Superpixels of the view from the kernel (SLIC unless told otherwise). */
  requestSuperpixels(method = "slic", params: Record<string, number> = { n_segments: 400, compactness: 10 }): void {
    this.flushView();
    this.widget.send({ type: "superpixel_request", method, names: Object.keys(params), values: Object.values(params) });
    this.session.message(`computing ${method} superpixels of the view…`);
  }

  /** Clear every label of the image (the caller has asked the user). */
  clearMask(): void {
    this.widget.send({ type: "mask_clear", frame: this.frame });
    this.session.history.clearMasks();
  }

  /** Save and next: the kernel marks the image done and opens the next undone one. */
  finishImage(): void {
    this.widget.send({ type: "finish_image" });
  }

  /** The view trait now (superpixels are computed for it), not after the camera rests. */
  private flushView(): void {
    const c = this.camera;
    const [x0, y0, x1, y1] = c.bounds();
    this.widget.set("view", { x: c.cx, y: c.cy, scale: c.scale, bounds: [x0, y0, x1, y1], width: c.width, height: c.height });
    this.widget.save_changes();
  }

  cursorStyle(): string {
    if (isMaskTool(this.interaction.tool) && !this.interaction.spaceDown) return "crosshair";
    return this.interaction.cursorFor(this.cursor);
  }

  // -- actions of keys and buttons -------------------------------------------------------------------
  act(a: KeyAction): void {
    runAction(this, a);
    this.emit("render");
  }

  setTool(t: ToolName): void {
    this.interaction.setTool(t);
    if (isDrawTool(t)) this.lastDrawTool = t;
    this.widget.set("tool", t);
    this.widget.save_changes();
    this.emit("tool");
    this.emit("render");
  }

  /** Draw shapes of the type at `index` of `types`, with the tool of its vector type. */
  pickType(index: number): void {
    const t = this.types[index];
    if (!t) return;
    this.currentType = index;
    const tool = toolForVectorType(t.vector_type);
    if (tool) this.setTool(tool);
    this.session.message(`drawing "${t.name}"`);
    this.emit("render");
  }

  /** Change a layer's look (the side panel); the kernel keeps it in `_layers`. */
  styleLayer(key: string, change: Partial<LayerMeta>): void {
    this.widget.set("_layers", this.layers.map((l) => (l.key === key ? { ...l, ...change } : l)));
    this.widget.save_changes();
    this.emit("render");
  }

  /** Change image adjustments (the side panel); the traits drive what is drawn. */
  adjust(change: Partial<Adjustments>): void {
    const m = this.widget;
    if (change.brightness !== undefined) m.set("brightness", change.brightness);
    if (change.contrast !== undefined) m.set("contrast", change.contrast);
    if (change.gamma !== undefined) m.set("gamma", change.gamma);
    if (change.channels !== undefined) m.set("channels", change.channels);
    m.save_changes();
  }

  /** Between drawing and selecting (the c key): back to the last drawing tool. */
  toggleDraw(): void {
    this.setTool(isDrawTool(this.interaction.tool) ? "select" : this.lastDrawTool);
  }

  selectedShapes(): Shape[] {
    const store = this.session.store;
    return [...store.selection].map((id) => store.get(id)).filter((x): x is Shape => !!x);
  }

  /** Select `ids` (or add them) and tell the kernel. */
  select(ids: Iterable<number>, add: boolean): void {
    const store = this.session.store;
    store.setSelection(add ? new Set([...store.selection, ...ids]) : new Set(ids));
    this.session.sendSelection();
  }

  /** The annotation type new shapes of `tool` get, or null with a message saying why. */
  private typeFor(tool: ToolName): TypeMeta | null {
    const ok = (t: TypeMeta) => t.vector_type === tool;
    const cur = this.currentType !== null ? this.types[this.currentType] : undefined;
    if (cur && ok(cur)) return cur;
    const t = this.types.find(ok);
    if (!t) {
      this.session.message(`no annotation type with vector type "${tool}": add one with proj.add_annotation_type(name, "${tool}")`, "warn");
      return null;
    }
    if (this.widget.get("editable") === false) {
      this.session.message("this viewer is read-only", "warn");
      return null;
    }
    this.currentType = t.index;
    return t;
  }

  private toolContext(): ToolContext {
    return {
      camera: this.camera,
      store: this.session.store,
      editor: this.session.editor,
      visibleLayers: () => (this.annotationsVisible ? this.layers.filter((l) => l.visible) : []),
      layerMeta: (k) => this.layerMeta(k),
      typeFor: (tool) => this.typeFor(tool),
      editable: (s) => this.editable(s),
      select: (ids, add) => this.select(ids, add),
      message: (text, level) => this.session.message(text, level),
      newUuid: mintUuid,
      render: () => this.emit("render"),
    };
  }
}
