// Where one widget's tiles come from: the server extension when it answers (the kernel may be
// busy), else the kernel's comm, or what the `transport` trait forces; what was chosen goes back
// to the kernel in `_transport_active`.
import type { SourceMeta, TileReplyMsg } from "../protocol";
import { CommTiles, HttpTiles, TileSource } from "../transport/tiles";
import type { TransportChoice, ViewerWidgetModel } from "../widget-model";

export class TileChooser {
  /** the tile source of the current slide, once chosen; null when there is none */
  tiles: Promise<TileSource> | null = null;
  /** why there is no tile source, for the banner */
  error: string | null = null;
  private comm: CommTiles | null = null;
  private key = "";

  constructor(private model: ViewerWidgetModel, private changed: () => void) {
    model.on("change:_source", () => this.choose());
    model.on("change:transport", () => this.choose());
    this.choose();
  }

  /** The kernel's answer to a tile request over the comm. */
  receive(msg: TileReplyMsg, buffers: DataView[]): void {
    this.comm?.receive(msg, buffers);
  }

  private choose(): void {
    const meta: SourceMeta | null = this.model.get("_source") || null;
    const transport: TransportChoice = this.model.get("transport") || "auto";
    const key = JSON.stringify([meta, transport]);
    if (key === this.key) return;
    this.key = key;
    this.error = null;
    if (!meta || meta.error) {
      this.tiles = null;
      this.error = meta?.error ?? null;
      this.changed();
      return;
    }
    this.tiles = this.detect(meta, transport);
    this.tiles.then(
      (src) => this.report(src.kind),
      (err: unknown) => {
        this.error = err instanceof Error ? err.message : String(err);
        this.report("none");
      },
    );
    this.changed();
  }

  private report(kind: "server" | "comm" | "none"): void {
    this.model.set("_transport_active", kind);
    this.model.save_changes();
    this.changed();
  }

  private async detect(meta: SourceMeta, transport: TransportChoice): Promise<TileSource> {
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
}
