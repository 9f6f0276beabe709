// One view of the SlideViewer widget: the deck.gl canvas, the tools, the keyboard, and the
// overlays around it. Data lives in the Session shared by every view of the same model.
import { Deck, OrthographicView } from "@deck.gl/core";
import type { Layer } from "@deck.gl/core";
import { Camera } from "./camera";
import { cloneShape } from "./geometry";
import { KeyAction, keyAction } from "./keyboard";
import type { LayerMeta, Shape, SourceMeta, TypeMeta } from "./protocol";
import type { Adjustments } from "./render/adjust";
import { AnnotationRenderer } from "./render/annotations";
import { draftLayers } from "./render/draft";
import { slideLayer, TileStats } from "./render/tiles";
import type { Session } from "./session/session";
import { DRAW_TOOLS, mintUuid, Pointer, ToolContext, ToolName, TOOLS, toolForVectorType } from "./tools/context";
import { Interaction } from "./tools/interaction";
import type { TileSource } from "./transport/tiles";
import type { Goto, ViewerTraits } from "./widget-model";
import { Overview } from "./ui/overview";
import { Panel } from "./ui/panel";
import { ScaleBar } from "./ui/scalebar";
import { h, injectStyle } from "./ui/style";
import { Toolbar } from "./ui/toolbar";

const COMPATIBLE: Record<string, Shape["kind"][]> = {
  box: ["box"], fixed_box: ["box"], ellipse: ["box"], point: ["point"],
  line: ["path"], polyline: ["path"], polygon: ["polygon", "box"],
};

/** Resolutions tried while the view moves, finest first. */
const RES_STEPS = [1, 0.5, 0.34, 0.25];

/** Debug and benchmark hook: every live view on the page. */
const registry: Set<ViewerView> = ((globalThis as any).__exactLabViewers ??= new Set());

export class ViewerView {
  readonly root: HTMLDivElement;
  private canvasBox: HTMLDivElement;
  private deck: Deck<any>;
  camera = new Camera();
  private interaction: Interaction;
  private renderer: AnnotationRenderer;
  private toolbar: Toolbar;
  private panel: Panel;
  private scalebar = new ScaleBar();
  private overview: Overview | null = null;
  private status: Record<string, HTMLElement> = {};
  private banner: HTMLDivElement;
  private source: TileSource | null = null;
  private tileStats: TileStats = { loaded: 0, failed: 0, lastError: null };
  private adjustments: Adjustments;
  private currentType: number | null = null;
  private lastDrawTool: ToolName = "box";
  private frameRequested = false;
  private fitted = false;
  private cursor: Pointer | null = null;
  private viewTimer: ReturnType<typeof setTimeout> | null = null;
  private offs: (() => void)[] = [];
  private lastGoto: Goto | null = null;
  private resizeObserver: ResizeObserver;
  /** frame timestamps for the benchmark */
  frameTimes: number[] = [];
  // Dynamic resolution: while the view moves, a slow (software) renderer draws at a lower
  // resolution so panning stays fluid; the full resolution comes back when it stops. The scale
  // that kept up is remembered for the next movement.
  private lastMove = 0;
  private motionScale = 1;
  private moving = false;
  private frameMs = 0;
  private framesAtScale = 0;
  private restoreTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private session: Session, el: HTMLElement) {
    injectStyle();
    const model = session.model;
    this.root = h("div", { class: "xl-root", tabIndex: 0, "data-lm-suppress-shortcuts": "true" });
    this.root.style.height = model.get("height") || "600px";
    this.canvasBox = h("div", { class: "xl-canvas" });
    this.banner = h("div", { class: "xl-banner xl-hidden" });
    this.toolbar = new Toolbar({
      tool: (t) => this.setTool(t),
      undo: () => this.act({ do: "undo" }),
      redo: () => this.act({ do: "redo" }),
      remove: () => this.act({ do: "delete" }),
      fit: () => this.act({ do: "fit" }),
      frame: (d) => this.act({ do: "frame", delta: d }),
      panel: () => this.panel.toggle(),
    });
    this.panel = new Panel({
      pickType: (i) => this.pickType(i),
      styleLayer: (key, change) => this.styleLayer(key, change),
      adjust: (change) => {
        if (change.brightness !== undefined) model.set("brightness", change.brightness);
        if (change.contrast !== undefined) model.set("contrast", change.contrast);
        if (change.gamma !== undefined) model.set("gamma", change.gamma);
        if (change.channels !== undefined) model.set("channels", change.channels);
        model.save_changes();
      },
    });
    const bar = h("div", { class: "xl-status" });
    for (const name of ["zoom", "cursor", "counts", "selection", "transport", "saved", "msg"]) {
      this.status[name] = h("span", { class: name === "msg" ? "xl-msg" : "" });
      bar.append(this.status[name]);
    }
    this.root.append(this.canvasBox, this.toolbar.el, this.panel.el, this.scalebar.el, bar, this.banner);
    el.append(this.root);

    this.adjustments = this.readAdjustments();
    this.renderer = new AnnotationRenderer(session.store, () => this.imageSize(), () => this.requestFrame());
    this.interaction = new Interaction(this.toolContext());
    this.interaction.tool = (TOOLS as readonly string[]).includes(model.get("tool")) ? model.get("tool") : "pan";

    this.deck = new Deck({
      parent: this.canvasBox,
      views: new OrthographicView({ id: "ortho", flipY: true }),
      viewState: this.camera.viewState(),
      controller: false,
      layers: [],
      useDevicePixels: true,
      // 2D only, and often rasterised in software: no multisampling (4x the fragments), no
      // depth buffer, no copy of the drawing buffer every frame
      deviceProps: { webgl: { antialias: false, depth: false, preserveDrawingBuffer: false } },
      getCursor: () => this.interaction.cursorFor(this.cursor),
      onAfterRender: () => this.afterRender(),
      onError: (err: Error) => this.session.message(`rendering failed: ${err.message}`, "error"),
    } as any);

    this.bindPointer();
    this.bindKeys();
    this.bindModel();
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(this.canvasBox);
    this.resize();
    this.offs.push(session.on((what) => this.onSessionEvent(what)));
    this.onSource();
    registry.add(this);
  }

  destroy(): void {
    registry.delete(this);
    for (const off of this.offs) off();
    this.resizeObserver.disconnect();
    this.deck.finalize();
    this.root.remove();
  }

  // -- model ---------------------------------------------------------------------------------------
  private get model() {
    return this.session.model;
  }

  get meta(): SourceMeta | null {
    return this.session.meta;
  }

  get layers(): LayerMeta[] {
    return this.model.get("_layers") || [];
  }

  get types(): TypeMeta[] {
    return this.model.get("_types") || [];
  }

  private readAdjustments(): Adjustments {
    const m = this.model;
    const ch = m.get("channels") || [true, true, true];
    return { brightness: m.get("brightness") ?? 0, contrast: m.get("contrast") ?? 1, gamma: m.get("gamma") ?? 1, channels: [!!ch[0], !!ch[1], !!ch[2]] };
  }

  private bindModel(): void {
    const m = this.model;
    const on = (name: keyof ViewerTraits, fn: () => void) => {
      m.on(`change:${name}`, fn);
      this.offs.push(() => m.off(`change:${name}`, fn));
    };
    on("_source", () => this.onSource());
    on("_layers", () => this.requestFrame());
    on("_types", () => this.requestFrame());
    on("annotations_visible", () => this.requestFrame());
    on("frame", () => this.onSource());
    on("height", () => (this.root.style.height = m.get("height") || "600px"));
    on("tool", () => {
      const t = m.get("tool");
      if ((TOOLS as readonly string[]).includes(t) && t !== this.interaction.tool) this.interaction.setTool(t);
      this.requestFrame();
    });
    for (const name of ["brightness", "contrast", "gamma", "channels"] as const)
      on(name, () => {
        this.adjustments = this.readAdjustments();
        this.requestFrame();
      });
    on("_goto", () => this.applyGoto());
  }

  private onSessionEvent(what: string): void {
    if (what === "tiles") this.onSource();
    if (what === "selection") this.interaction.activeVertex = null;
    this.requestFrame();
  }

  private onSource(): void {
    const meta = this.meta;
    this.source = null;
    this.tileStats = { loaded: 0, failed: 0, lastError: null };
    if (!meta) return;
    this.camera.minZoom = Math.log2(Math.min(0.5, 64 / Math.max(meta.width, meta.height)));
    if (!this.fitted && this.camera.width > 1) this.home();
    const tiles = this.session.tiles;
    this.showBanner(this.session.tileError);
    tiles?.then((src) => {
      if (this.session.tiles !== tiles) return;
      this.source = src;
      this.showBanner(null);
      if (!this.overview) {
        this.overview = new Overview(meta, this.camera, () => {
          this.root.focus({ preventScroll: true }); // keys keep working after a click on the map
          this.cameraChanged();
        });
        this.root.append(this.overview.el);
      }
      this.overview.load(src, this.model.get("frame") || 0);
      this.requestFrame();
    }, () => this.showBanner(this.session.tileError));
    this.requestFrame();
  }

  private showBanner(text: string | null): void {
    this.banner.textContent = text ?? "";
    this.banner.classList.toggle("xl-hidden", !text);
  }

  private imageSize(): [number, number] {
    const m = this.meta;
    return m ? [m.width, m.height] : [1, 1];
  }

  // -- camera --------------------------------------------------------------------------------------
  private resize(): void {
    const r = this.canvasBox.getBoundingClientRect();
    if (r.width < 2 || r.height < 2) return;
    this.camera.width = r.width;
    this.camera.height = r.height;
    if (!this.fitted && this.meta) this.home();
    this.requestFrame();
  }

  private home(): void {
    const [w, h] = this.imageSize();
    this.camera.fit([0, 0, w, h]);
    this.fitted = true;
    if (this.model.get("_goto")) this.applyGoto(true);
  }

  private applyGoto(initial = false): void {
    const g = this.model.get("_goto");
    if (!g || (g === this.lastGoto && !initial)) return;
    this.lastGoto = g;
    if ("bbox" in g) this.camera.fit(g.bbox, 0);
    else this.camera.goto(g.x, g.y, g.scale);
    this.requestFrame();
  }

  private cameraChanged(): void {
    this.lastMove = performance.now();
    if (!this.moving) {
      this.moving = true;
      this.applyResolution(this.motionScale);
    }
    if (this.restoreTimer) clearTimeout(this.restoreTimer);
    this.restoreTimer = setTimeout(() => {
      this.moving = false;
      // kept up easily: try a finer resolution next time
      if (this.frameMs && this.frameMs < 14 && this.motionScale < 1) this.motionScale = RES_STEPS[RES_STEPS.indexOf(this.motionScale) - 1];
      this.applyResolution(1);
    }, 300);
    this.requestFrame();
    if (this.viewTimer) clearTimeout(this.viewTimer);
    this.viewTimer = setTimeout(() => {
      const c = this.camera;
      const [x0, y0, x1, y1] = c.bounds();
      this.model.set("view", { x: c.cx, y: c.cy, scale: c.scale, bounds: [x0, y0, x1, y1], width: c.width, height: c.height });
      this.model.save_changes();
    }, 200);
  }

  // -- rendering -----------------------------------------------------------------------------------
  requestFrame(): void {
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame(() => {
      this.frameRequested = false;
      this.renderNow();
    });
  }

  private renderNow(): void {
    const meta = this.meta;
    const c = this.camera;
    const layers: Layer[] = [];
    if (meta && this.source) {
      layers.push(slideLayer(meta, this.source, this.model.get("frame") || 0, this.adjustments, this.tileStats, () => this.requestFrame()) as any);
    }
    const bounds = c.bounds();
    const view = { bounds, scale: c.scale };
    const show = this.model.get("annotations_visible") !== false;
    const metas = this.layers;
    layers.push(...this.renderer.layers(metas, view, show));
    if (show) layers.push(...this.renderer.selectionLayers(metas, view));
    const target = this.interaction.editTarget();
    const av = this.interaction.activeVertex;
    layers.push(...draftLayers(this.interaction.draft(), show ? this.interaction.handles() : [], av && target && av.id === target.id ? av.index : null));
    this.deck.setProps({ viewState: c.viewState() as any, layers });
    this.updateChrome();
  }

  private resolution = 1;

  get lowRes(): boolean {
    return this.resolution < 1;
  }

  private applyResolution(scale: number): void {
    if (scale === this.resolution) return;
    this.resolution = scale;
    this.frameMs = 0;
    this.framesAtScale = 0;
    this.deck.setProps({ useDevicePixels: scale === 1 ? true : (globalThis.devicePixelRatio || 1) * scale });
    // the new drawing buffer starts empty and luma.gl does not report this as a resize: draw now
    this.deck.redraw("resolution changed");
  }

  private afterRender(): void {
    const now = performance.now();
    const last = this.frameTimes[this.frameTimes.length - 1];
    if (this.moving && last !== undefined && now - last < 1000) {
      const dt = now - last;
      this.frameMs = this.frameMs ? 0.7 * this.frameMs + 0.3 * dt : dt;
      // a few frames to judge, then a coarser resolution if they are slower than ~35 fps
      if (++this.framesAtScale >= 4 && this.frameMs > 28 && this.motionScale > RES_STEPS[RES_STEPS.length - 1]) {
        this.motionScale = RES_STEPS[RES_STEPS.indexOf(this.motionScale) + 1];
        this.applyResolution(this.motionScale);
      }
    }
    this.frameTimes.push(now);
    if (this.frameTimes.length > 600) this.frameTimes.splice(0, 300);
    if (this.session.store.complete && !this.session.timing.reported && !this.renderer.busy) this.session.reportDrawn();
  }

  private updateChrome(): void {
    const meta = this.meta;
    const c = this.camera;
    const store = this.session.store;
    const frames = meta?.frames ?? 1;
    this.toolbar.update(this.interaction.tool, this.session.editor.canUndo, this.session.editor.canRedo, this.model.get("frame") || 0, frames);
    this.panel.update(this.types, this.layers, this.currentType, (k) => store.count(k), this.adjustments);
    this.scalebar.update(c.scale, meta?.mpp ?? null);
    this.overview?.draw();
    const mag = meta?.objective_power ? ` (${(meta.objective_power * c.scale).toFixed(1)}×)` : "";
    this.status.zoom.textContent = `zoom ${c.scale >= 1 ? c.scale.toFixed(2) : c.scale.toPrecision(2)}${mag}`;
    const p = this.cursor;
    if (p) {
      const um = meta?.mpp ? ` · ${(p.x * meta.mpp).toFixed(1)}, ${(p.y * meta.mpp).toFixed(1)} µm` : "";
      this.status.cursor.textContent = `x ${Math.round(p.x)} y ${Math.round(p.y)} px${um}`;
    }
    let total = 0;
    for (const l of this.layers) total += store.count(l.key);
    const dens = this.renderer.densityLayers.size ? " (density)" : "";
    this.status.counts.textContent = `${total.toLocaleString()} annotations${dens}${store.complete ? "" : " (loading…)"}`;
    this.status.selection.textContent = store.selection.size ? `${store.selection.size.toLocaleString()} selected` : "";
    this.status.transport.textContent = this.source ? (this.source.kind === "server" ? "tiles: server" : "tiles: comm") : this.session.tileError ? "tiles: none" : "tiles: …";
    if (this.tileStats.failed) this.status.transport.textContent += ` (${this.tileStats.failed} failed)`;
    const unsent = this.session.outbox.unsent;
    this.status.saved.textContent = unsent ? "saving…" : this.session.saved ? "saved" : "committing…";
    const n = this.session.notice;
    if (n && Date.now() - n.at < 8000) {
      this.status.msg.textContent = n.text;
      this.status.msg.className = `xl-msg xl-${n.level}`;
    } else this.status.msg.textContent = "";
  }

  // -- pointer ---------------------------------------------------------------------------------------
  private pointer(e: PointerEvent | MouseEvent): Pointer {
    const r = this.canvasBox.getBoundingClientRect();
    const sx = e.clientX - r.left, sy = e.clientY - r.top;
    const [x, y] = this.camera.toWorld(sx, sy);
    return { sx, sy, x, y, shift: e.shiftKey, alt: e.altKey, ctrl: e.ctrlKey || e.metaKey };
  }

  private bindPointer(): void {
    const box = this.canvasBox;
    const stop = (e: Event) => e.stopPropagation();
    // The notebook must not see these (it would take focus or select the cell).
    for (const t of ["mousedown", "mouseup", "click", "contextmenu"]) this.root.addEventListener(t, stop);
    box.addEventListener("contextmenu", (e) => e.preventDefault());
    box.addEventListener("pointerdown", (e) => {
      this.root.focus({ preventScroll: true });
      box.setPointerCapture(e.pointerId);
      e.preventDefault();
      this.cursor = this.pointer(e);
      this.interaction.down(this.cursor, e.button);
      this.cameraChanged();
    });
    box.addEventListener("pointermove", (e) => {
      this.cursor = this.pointer(e);
      const before = [this.camera.cx, this.camera.cy];
      this.interaction.move(this.cursor);
      if (before[0] !== this.camera.cx || before[1] !== this.camera.cy) this.cameraChanged();
      else this.requestFrame();
    });
    box.addEventListener("pointerup", (e) => {
      this.cursor = this.pointer(e);
      this.interaction.up(this.cursor);
      this.requestFrame();
    });
    box.addEventListener("pointercancel", () => this.interaction.cancel());
    box.addEventListener("dblclick", (e) => {
      e.stopPropagation();
      this.interaction.dblclick(this.pointer(e));
    });
    box.addEventListener(
      "wheel",
      (e) => {
        e.preventDefault();
        e.stopPropagation();
        const p = this.pointer(e);
        const unit = e.deltaMode === 1 ? 33 : e.deltaMode === 2 ? 400 : 1;
        const dz = Math.max(-1, Math.min(1, (-e.deltaY * unit) / 400));
        this.camera.zoomAt(p.sx, p.sy, dz);
        this.cursor = this.pointer(e);
        this.cameraChanged();
      },
      { passive: false },
    );
  }

  // -- keyboard ------------------------------------------------------------------------------------
  private bindKeys(): void {
    this.root.addEventListener("keydown", (e) => {
      if (e.key === "Tab") return; // let people leave the viewer
      const target = e.target as HTMLElement;
      if (target !== this.root && (target.tagName === "INPUT" || target.tagName === "BUTTON")) {
        e.stopPropagation();
        return;
      }
      e.stopPropagation(); // JupyterLab must never see keys meant for the viewer
      if (e.key === " ") {
        this.interaction.spaceDown = true;
        e.preventDefault();
        return;
      }
      const a = keyAction(e);
      if (!a) return;
      e.preventDefault();
      this.act(a);
    });
    this.root.addEventListener("keyup", (e) => {
      e.stopPropagation();
      if (e.key === " ") this.interaction.spaceDown = false;
    });
    this.root.addEventListener("keypress", (e) => e.stopPropagation());
  }

  act(a: KeyAction): void {
    const s = this.session;
    const ed = s.editor;
    switch (a.do) {
      case "cancel":
        if (!this.interaction.cancel()) s.store.setSelection([]), s.sendSelection();
        break;
      case "confirm":
        this.interaction.confirm();
        break;
      case "backspace":
        if (this.interaction.undoVertex()) break;
      // falls through: Backspace deletes like Del when nothing is being drawn
      case "delete":
        if (this.interaction.deleteActiveVertex()) break;
        this.deleteSelection();
        break;
      case "undo": {
        this.interaction.cancel();
        const label = ed.undo();
        s.message(label ? `undo ${label}` : "nothing to undo");
        s.sendSelection();
        break;
      }
      case "redo": {
        const label = ed.redo();
        s.message(label ? `redo ${label}` : "nothing to redo");
        s.sendSelection();
        break;
      }
      case "toggleDraw":
        if ((DRAW_TOOLS as readonly string[]).includes(this.interaction.tool)) this.setTool("select");
        else this.setTool(this.lastDrawTool);
        break;
      case "toggleAnnotations":
        this.model.set("annotations_visible", this.model.get("annotations_visible") === false);
        this.model.save_changes();
        break;
      case "type":
        this.numberKey(a.key);
        break;
      case "image":
        this.model.send({ type: "navigate", delta: a.delta });
        break;
      case "frame": {
        const frames = this.meta?.frames ?? 1;
        const f = Math.max(0, Math.min(frames - 1, (this.model.get("frame") || 0) + a.delta));
        this.model.set("frame", f);
        this.model.save_changes();
        break;
      }
      case "screen": {
        const c = this.camera;
        const [x0, y0, x1, y1] = c.bounds();
        c.cx += a.dx * (x1 - x0) * 0.85; // 15 % overlap between screens
        c.cy += a.dy * (y1 - y0) * 0.85;
        this.cameraChanged();
        if (a.mark) this.model.send({ type: "screening", dx: a.dx, dy: a.dy, bounds: c.bounds() });
        break;
      }
      case "verify":
        s.outbox.flush();
        this.model.send({ type: "verify" }, undefined, [Float64Array.from(s.store.selection).buffer]);
        break;
      case "pan":
        this.camera.panBy(-a.dx * this.camera.width, -a.dy * this.camera.height);
        this.cameraChanged();
        break;
      case "zoom":
        this.camera.zoomAt(this.camera.width / 2, this.camera.height / 2, a.dz);
        this.cameraChanged();
        break;
      case "fit":
        this.home();
        this.cameraChanged();
        break;
    }
    this.requestFrame();
  }

  setTool(t: ToolName): void {
    this.interaction.setTool(t);
    if ((DRAW_TOOLS as readonly string[]).includes(t)) this.lastDrawTool = t;
    this.model.set("tool", t);
    this.model.save_changes();
    this.root.focus({ preventScroll: true });
    this.requestFrame();
  }

  private deleteSelection(): void {
    const s = this.session;
    const shapes = [...s.store.selection].map((id) => s.store.get(id)).filter((x): x is Shape => !!x);
    const editable = shapes.filter((x) => this.editable(x));
    if (!editable.length) {
      if (shapes.length) s.message("these annotations are not editable", "warn");
      return;
    }
    s.editor.apply(editable.length > 1 ? `delete ${editable.length} shapes` : "delete", editable.map((x) => ({ id: x.id, before: x, after: null })));
    s.store.setSelection([]);
    s.sendSelection();
  }

  private numberKey(key: string): void {
    const type = this.types.find((t) => t.key === key);
    if (!type) return;
    const s = this.session;
    const sel = [...s.store.selection].map((id) => s.store.get(id)).filter((x): x is Shape => !!x);
    if (!sel.length) {
      this.pickType(type.index);
      return;
    }
    const changes = [];
    let refused = 0;
    for (const shape of sel) {
      const meta = this.layerMeta(shape.layer);
      if (!meta || meta.source !== "type" || !meta.editable) {
        refused++;
        continue;
      }
      if (!COMPATIBLE[type.vector_type]?.includes(shape.kind)) {
        refused++;
        continue;
      }
      let after: Shape = { ...cloneShape(shape), layer: type.layer };
      if (type.vector_type === "polygon" && shape.kind === "box") {
        const [x0, y0, x1, y1] = shape.coords;
        after = { ...after, kind: "polygon", coords: [x0, y0, x1, y0, x1, y1, x0, y1] };
      }
      if (type.vector_type === "line" && after.coords.length !== 4) {
        refused++;
        continue;
      }
      if (after.layer !== shape.layer || after.kind !== shape.kind) changes.push({ id: shape.id, before: shape, after });
    }
    if (changes.length) s.editor.apply(`change type to ${type.name}`, changes);
    if (refused) s.message(`${refused} selected annotation(s) cannot become "${type.name}" (${type.vector_type})`, "warn");
    else s.message(`type → ${type.name}`);
  }

  private pickType(index: number): void {
    const t = this.types[index];
    if (!t) return;
    this.currentType = index;
    const tool = toolForVectorType(t.vector_type);
    if (tool) this.setTool(tool);
    this.session.message(`drawing "${t.name}"`);
    this.requestFrame();
  }

  private styleLayer(key: string, change: Partial<LayerMeta>): void {
    const layers = this.layers.map((l) => (l.key === key ? { ...l, ...change } : l));
    this.model.set("_layers", layers);
    this.model.save_changes();
    this.requestFrame();
  }

  layerMeta(key: string): LayerMeta | undefined {
    return this.layers.find((l) => l.key === key);
  }

  private editable(s: Shape): boolean {
    return !!this.layerMeta(s.layer)?.editable && this.model.get("editable") !== false;
  }

  private toolContext(): ToolContext {
    return {
      camera: this.camera,
      store: this.session.store,
      editor: this.session.editor,
      visibleLayers: () => (this.model.get("annotations_visible") === false ? [] : this.layers.filter((l) => l.visible)),
      layerMeta: (k) => this.layerMeta(k),
      typeFor: (tool) => {
        const ok = (t: TypeMeta) => t.vector_type === tool;
        const cur = this.currentType !== null ? this.types[this.currentType] : undefined;
        if (cur && ok(cur)) return cur;
        const t = this.types.find(ok);
        if (!t) {
          this.session.message(`no annotation type with vector type "${tool}": add one with proj.add_annotation_type(name, "${tool}")`, "warn");
          return null;
        }
        if (this.model.get("editable") === false) {
          this.session.message("this viewer is read-only", "warn");
          return null;
        }
        this.currentType = t.index;
        return t;
      },
      editable: (s) => this.editable(s),
      select: (ids, add) => {
        const next = add ? new Set([...this.session.store.selection, ...ids]) : new Set(ids);
        this.session.store.setSelection(next);
        this.session.sendSelection();
      },
      message: (text, level) => this.session.message(text, level),
      newUuid: mintUuid,
      render: () => this.requestFrame(),
    };
  }
}
