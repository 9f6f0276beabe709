// Per-widget state shared by all views of one widget model: the annotation store, the edit
// queue and history, the tile source and the notices; the kernel's messages go to receiver.ts.
import { asDataViews } from "../data/buffers";
import { Editor } from "../data/editor";
import { Outbox } from "../data/outbox";
import { AnnotationStore, StoreEvent } from "../data/store";
import { EditHistory } from "../masks/history";
import type { SuperpixelOverlay } from "../masks/superpixels";
import type { MaskEditKind } from "../masks/painter";
import { MaskTiles } from "../masks/tiles";
import type { Level, SourceMeta } from "../protocol";
import type { TileSource } from "../transport/tiles";
import type { ViewerWidgetModel } from "../widget-model";
import { BatchTiming } from "./batch-timing";
import { receive } from "./receiver";
import { TileChooser } from "./tile-chooser";

export interface Notice {
  text: string;
  level: Level;
  at: number;
}

export type SessionEvent = StoreEvent | "outbox" | "tiles" | "notice" | "saved" | "media" | "masks";

/** The media of the selected annotation (receiver.ts), played by the media panel. */
export interface MediaFile {
  uuid: string;
  kind: string;
  name: string;
  url: string;
}

/** How long selection changes gather before they go to the kernel. */
const SELECTION_DELAY_MS = 60;

export class Session {
  readonly store = new AnnotationStore();
  readonly outbox: Outbox;
  readonly editor: Editor;
  readonly tileChooser: TileChooser;
  /** timings of the last batch of chunks, reported to the kernel once it is on screen */
  readonly timing = new BatchTiming();
  /** the label image's tiles (masks/tiles.ts) and the superpixels of the last request */
  readonly masks: MaskTiles;
  superpixels: SuperpixelOverlay | null = null;
  /** which history (vector edits or the kernel's mask history) Ctrl+Z reaches */
  readonly history = new EditHistory();
  private maskSeq = 0;
  /** the last stroke or fill sent (tests and the console compare it with what the kernel stored) */
  lastMaskEdit: { kind: string; value: number; points: number[]; radius: number } | null = null;
  notice: Notice | null = null;
  media: MediaFile | null = null;
  saved = true;
  private listeners = new Set<(what: SessionEvent) => void>();
  private selectionTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(readonly model: ViewerWidgetModel) {
    this.outbox = new Outbox((msg, buffers) => this.model.send(msg, undefined, buffers));
    this.outbox.onStateChange = () => this.emit("outbox");
    this.editor = new Editor(this.store, this.outbox);
    this.editor.onRecord = () => this.history.record("vector");
    this.masks = new MaskTiles(model, () => this.emit("masks"));
    this.masks.setTypes(model.get("_types") || []);
    model.on("change:_types", () => this.masks.setTypes(model.get("_types") || []));
    model.on("change:_source", () => {
      this.masks.reset();
      this.superpixels = null;
      this.history.clearMasks();
      this.emit("masks");
    });
    model.on("msg:custom", (msg, buffers) => receive(this, msg, asDataViews(buffers)));
    this.store.on((what) => this.emit(what));
    this.tileChooser = new TileChooser(model, () => this.emit("tiles"));
    this.timing.helloSent();
    model.send({ type: "hello" });
  }

  on(fn: (what: SessionEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(what: SessionEvent): void {
    for (const fn of this.listeners) fn(what);
  }

  get meta(): SourceMeta | null {
    return this.model.get("_source") || null;
  }

  get tiles(): Promise<TileSource> | null {
    return this.tileChooser.tiles;
  }

  get tileError(): string | null {
    return this.tileChooser.error;
  }

  message(text: string, level: Level = "info"): void {
    this.notice = { text, level, at: Date.now() };
    this.emit("notice");
  }

  /** Tell the kernel what is selected (ids; the kernel maps them to uuids). */
  sendSelection(): void {
    if (this.selectionTimer) clearTimeout(this.selectionTimer);
    this.selectionTimer = setTimeout(() => {
      this.selectionTimer = null;
      this.outbox.flush(); // new shapes must reach the kernel before their selection
      const sel = Float64Array.from(this.store.selection);
      this.model.send({ type: "selection", gen: this.store.gen }, undefined, [sel.buffer]);
    }, SELECTION_DELAY_MS);
  }

  /** A brush stroke, region fill or superpixel fill to the kernel (class `value`, 0 erases; level-0 points). */
  sendMaskEdit(kind: MaskEditKind, value: number, points: number[], radius: number, frame: number): void {
    const seq = ++this.maskSeq;
    this.lastMaskEdit = { kind, value, points: points.slice(), radius };
    const buf = Float64Array.from(points).buffer;
    if (kind === "mask_stroke") this.model.send({ type: "mask_stroke", seq, type_id: value, radius, frame }, undefined, [buf]);
    else this.model.send({ type: kind, seq, type_id: value, frame }, undefined, [buf]);
    this.history.record("mask");
  }

  /** Undo (-1) or redo (+1) a mask edit in the kernel's mask history. */
  maskHistory(step: -1 | 1): void {
    this.model.send({ type: "mask_history", step });
  }

  /** The last batch is on screen: report its timings, once. */
  reportDrawn(): void {
    if (!this.store.complete) return;
    const report = this.timing.drawn(this.store.gen);
    if (report) this.model.send(report);
  }
}
