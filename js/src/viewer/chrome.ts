// The DOM around the canvas of one view: toolbar, side panel, scale bar, overview map, the
// banner that says why there are no tiles, and the status line; updated after each frame.
import type { SourceMeta } from "../protocol";
import type { TileSource } from "../transport/tiles";
import { reviewText, screeningOf } from "../review/screening";
import { MaskBar } from "../ui/maskbar";
import { MediaPanel } from "../ui/media";
import { Overview } from "../ui/overview";
import { Panel } from "../ui/panel";
import { ScaleBar } from "../ui/scalebar";
import { h } from "../ui/style";
import { ImageStrip } from "../ui/strip";
import { Toolbar } from "../ui/toolbar";
import type { ViewerModel } from "./model";
import type { Scene } from "./scene";
import { statusTexts } from "./status";

const STATUS_FIELDS = ["zoom", "cursor", "counts", "selection", "review", "transport", "saved", "msg"] as const;

export class Chrome {
  private toolbar: Toolbar;
  private maskBar: MaskBar;
  private panel: Panel;
  private scalebar = new ScaleBar();
  private overview: Overview | null = null;
  readonly media = new MediaPanel();
  private strip: ImageStrip;
  private status = {} as Record<(typeof STATUS_FIELDS)[number], HTMLElement>;
  private banner: HTMLDivElement;

  /** Appends its parts to `root`; `focus` gives the viewer the keyboard back. */
  constructor(private root: HTMLElement, private model: ViewerModel, private focus: () => void) {
    this.toolbar = new Toolbar({
      tool: (t) => model.setTool(t),
      undo: () => model.act({ do: "undo" }),
      redo: () => model.act({ do: "redo" }),
      remove: () => model.act({ do: "delete" }),
      fit: () => model.act({ do: "fit" }),
      frame: (d) => model.act({ do: "frame", delta: d }),
      panel: () => this.panel.toggle(),
    });
    this.maskBar = new MaskBar({
      radius: (r) => model.setBrushRadius(r),
      superpixels: (method, params) => model.requestSuperpixels(method, params),
      clear: () => {
        // a clear removes every label of the image: ask first (it can be restored from a version)
        if (globalThis.confirm?.("Clear every pixel label of this image?")) model.clearMask();
        focus();
      },
      finish: () => model.finishImage(),
    });
    this.toolbar.el.append(this.maskBar.el);
    this.panel = new Panel({
      pickType: (i) => model.pickType(i),
      styleLayer: (key, change) => model.styleLayer(key, change),
      adjust: (change) => model.adjust(change),
    });
    const bar = h("div", { class: "xl-status" });
    for (const name of STATUS_FIELDS) {
      this.status[name] = h("span", { class: name === "msg" ? "xl-msg" : "" });
      bar.append(this.status[name]);
    }
    this.banner = h("div", { class: "xl-banner xl-hidden" });
    this.strip = new ImageStrip((delta) => {
      model.act({ do: "image", delta });
      focus();
    });
    root.append(this.toolbar.el, this.panel.el, this.scalebar.el, bar, this.banner, this.media.el, this.strip.el);
  }

  /** The tiles the overview shows as screened (tests and the console read this). */
  get screenedOnOverview(): number[] {
    return this.overview?.screened ?? [];
  }

  showBanner(text: string | null): void {
    this.banner.textContent = text ?? "";
    this.banner.classList.toggle("xl-hidden", !text);
  }

  /** The overview map, made with the first tile source, loaded with each. */
  showOverview(meta: SourceMeta, source: TileSource): void {
    if (!this.overview) {
      this.overview = new Overview(meta, this.model.camera, () => {
        this.focus(); // keys keep working after a click on the map
        this.model.cameraChanged();
      }, () => screeningOf(this.model.widget.get("_screening")));
      this.root.append(this.overview.el);
    }
    this.overview.load(source, this.model.frame);
  }

  update(scene: Scene): void {
    const m = this.model;
    const meta = m.meta;
    const s = m.session;
    const store = s.store;
    const c = m.camera;
    this.toolbar.update(m.interaction.tool, s.editor.canUndo || s.history.canUndo, s.editor.canRedo || s.history.canRedo, m.frame, m.frames);
    this.maskBar.update(m.types, m.widget.get("brush_radius"), m.widget.get("brush_units"), m.widget.get("_superpixel_methods"));
    this.panel.update(m.types, m.layers, m.currentType, (k) => store.count(k), m.adjustments);
    this.scalebar.update(c.scale, meta?.mpp ?? null);
    this.overview?.draw();
    let annotations = 0;
    for (const l of m.layers) annotations += store.count(l.key);
    const texts = statusTexts({
      scale: c.scale,
      objectivePower: meta?.objective_power ?? null,
      mpp: meta?.mpp ?? null,
      cursor: m.cursor,
      annotations,
      density: scene.renderer.densityLayers.size > 0,
      complete: store.complete,
      selected: store.selection.size,
      tiles: scene.source?.kind ?? null,
      tileError: !!s.tileError,
      failedTiles: scene.tileStats.failed,
      unsent: s.outbox.unsent,
      saved: s.saved,
      notice: s.notice,
      now: Date.now(),
    });
    this.media.update(s.media);
    this.strip.update(m.widget.get("_strip") || []);
    for (const name of STATUS_FIELDS) {
      if (name === "review") this.status.review.textContent = reviewText(screeningOf(m.widget.get("_screening")), m.widget.get("_review"));
      else if (name !== "msg") this.status[name].textContent = texts[name];
    }
    this.status.msg.textContent = texts.msg?.text ?? "";
    if (texts.msg) this.status.msg.className = `xl-msg xl-${texts.msg.level}`;
  }
}
