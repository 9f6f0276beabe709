// Per-widget state shared by all views of one widget model: the annotation store, the edit
// queue and history, the tile source, and the message handling with the kernel.
import { AnnotationStore } from "./data/store";
import { Editor } from "./data/editor";
import { Outbox } from "./data/outbox";
import type { ChunkHeader, Shape, SourceMeta, UpsertHeader } from "./protocol";
import { CommTiles, HttpTiles, TileSource } from "./transport/tiles";

export interface Model {
  get(name: string): any;
  set(name: string, value: any): void;
  save_changes(): void;
  on(event: string, cb: (...args: any[]) => void): void;
  off(event?: string, cb?: (...args: any[]) => void): void;
  send(content: any, callbacks?: any, buffers?: (ArrayBuffer | ArrayBufferView)[]): void;
}

export interface Notice {
  text: string;
  level: "info" | "warn" | "error";
  at: number;
}

function views(buffers: any[] | undefined): DataView[] {
  return (buffers ?? []).map((b) => (b instanceof DataView ? b : ArrayBuffer.isView(b) ? new DataView(b.buffer, b.byteOffset, b.byteLength) : new DataView(b)));
}

function ids(b: DataView | undefined): number[] {
  if (!b) return [];
  const a = new Float64Array(b.byteLength / 8);
  new Uint8Array(a.buffer).set(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
  return Array.from(a);
}

export class Session {
  store = new AnnotationStore();
  outbox: Outbox;
  editor: Editor;
  tiles: Promise<TileSource> | null = null;
  tileError: string | null = null;
  private comm: CommTiles | null = null;
  private sourceKey = "";
  notice: Notice | null = null;
  saved = true;
  /** timings of the last batch of chunks, reported to the kernel once it is on screen */
  perf = { hello: 0, batch: -1, firstChunk: 0, done: 0, drawn: 0, bytes: 0, reported: true };
  private listeners = new Set<(what: string) => void>();
  private selectionTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(public model: Model) {
    this.outbox = new Outbox((msg, buffers) => this.model.send(msg, undefined, buffers));
    this.outbox.onStateChange = () => this.emit("outbox");
    this.editor = new Editor(this.store, this.outbox);
    model.on("msg:custom", (msg: any, buffers: any[]) => this.receive(msg, views(buffers)));
    model.on("change:_source", () => this.resetTiles());
    model.on("change:transport", () => this.resetTiles());
    this.store.on((what) => this.emit(what));
    this.resetTiles();
    this.perf.hello = performance.now();
    model.send({ type: "hello" });
  }

  on(fn: (what: string) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(what: string): void {
    for (const fn of this.listeners) fn(what);
  }

  get meta(): SourceMeta | null {
    return this.model.get("_source") || null;
  }

  message(text: string, level: Notice["level"] = "info"): void {
    this.notice = { text, level, at: Date.now() };
    this.emit("notice");
  }

  // -- tiles -------------------------------------------------------------------------------------
  private resetTiles(): void {
    const meta = this.meta;
    const transport: string = this.model.get("transport") || "auto";
    const key = JSON.stringify([meta, transport]);
    if (key === this.sourceKey) return;
    this.sourceKey = key;
    this.tileError = null;
    if (!meta || meta.error) {
      this.tiles = null;
      this.tileError = meta?.error ?? null;
      this.emit("tiles");
      return;
    }
    this.tiles = this.detect(meta, transport);
    this.tiles.then(
      (src) => this.report(src.kind),
      (err) => {
        this.tileError = String(err?.message ?? err);
        this.report("none");
      },
    );
    this.emit("tiles");
  }

  private report(kind: string): void {
    this.model.set("_transport_active", kind);
    this.model.save_changes();
    this.emit("tiles");
  }

  private async detect(meta: SourceMeta, transport: string): Promise<TileSource> {
    const comm = () => {
      if (!meta.comm) throw new Error("the kernel cannot serve tiles either (no tile engine in this kernel)");
      this.comm = new CommTiles((m) => this.model.send(m), meta);
      return this.comm;
    };
    if (transport === "comm") return comm();
    try {
      return await HttpTiles.detect(meta);
    } catch (e) {
      if (transport === "server") throw new Error(`Cannot load tiles: ${(e as Error).message}.`);
      try {
        return comm();
      } catch (e2) {
        throw new Error(`Cannot load tiles: ${(e as Error).message}; and ${(e2 as Error).message}.`);
      }
    }
  }

  // -- messages from the kernel --------------------------------------------------------------------
  private receive(msg: any, buffers: DataView[]): void {
    switch (msg.type) {
      case "reset":
        this.store.reset(msg.gen);
        break;
      case "chunk":
        if (msg.batch !== this.perf.batch) {
          this.perf.batch = msg.batch;
          this.perf.firstChunk = performance.now();
          this.perf.bytes = 0;
        }
        this.perf.bytes += buffers.reduce((n, b) => n + b.byteLength, 0);
        this.store.addChunk(msg as ChunkHeader, buffers);
        break;
      case "done":
        if (msg.gen !== this.store.gen) return;
        this.store.complete = true;
        this.perf.done = performance.now();
        if (msg.batch !== this.perf.batch) {
          this.perf.batch = msg.batch;
          this.perf.firstChunk = this.perf.done;
          this.perf.bytes = 0;
        }
        this.perf.reported = false;
        this.store.emit("done");
        break;
      case "upsert":
        this.upsert(msg as UpsertHeader, buffers);
        break;
      case "remove":
        if (msg.gen !== this.store.gen) return;
        for (const id of ids(buffers[0])) if (!this.outbox.isPending(id)) this.store.remove(id);
        this.store.emit("remove");
        break;
      case "select":
        if (msg.gen !== undefined && msg.gen !== this.store.gen) return;
        this.store.setSelection(ids(buffers[0]));
        break;
      case "ack":
        this.outbox.ack(msg.seq);
        if (msg.errors?.length) this.message(msg.errors[0].error, "error");
        break;
      case "saved":
        this.saved = !msg.pending;
        this.emit("saved");
        break;
      case "tile":
        this.comm?.receive(msg, buffers);
        break;
      case "notice":
        this.message(msg.text, msg.level || "info");
        break;
    }
  }

  private upsert(msg: UpsertHeader, buffers: DataView[]): void {
    if (msg.gen !== this.store.gen) return;
    const b = buffers[0];
    const coords = b ? new Float64Array(b.byteLength / 8) : new Float64Array(0);
    if (b) new Uint8Array(coords.buffer).set(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
    let at = 0;
    for (const s of msg.shapes) {
      const n = s.n * 2;
      const shape: Shape = { id: s.id, layer: s.layer, kind: s.kind, coords: Array.from(coords.subarray(at, at + n)), rings: s.rings, uuid: s.uuid };
      at += n;
      // a shape with an edit still on its way to the kernel keeps the local state
      if (!this.outbox.isPending(s.id)) this.store.put(shape);
    }
    this.store.emit("upsert");
  }

  /** Tell the kernel what is selected (ids; the kernel maps them to uuids). */
  sendSelection(): void {
    if (this.selectionTimer) clearTimeout(this.selectionTimer);
    this.selectionTimer = setTimeout(() => {
      this.selectionTimer = null;
      this.outbox.flush(); // new shapes must reach the kernel before their selection
      const sel = Float64Array.from(this.store.selection);
      this.model.send({ type: "selection", gen: this.store.gen }, undefined, [sel.buffer]);
    }, 60);
  }

  reportDrawn(): void {
    if (this.perf.reported || !this.store.complete) return;
    this.perf.reported = true;
    this.perf.drawn = performance.now();
    const p = this.perf;
    this.model.send({ type: "drawn", gen: this.store.gen, batch: p.batch, since_hello_ms: p.drawn - p.hello, receive_ms: p.done - (p.firstChunk || p.done), render_ms: p.drawn - p.done, bytes: p.bytes });
  }
}
