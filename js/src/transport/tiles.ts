// Where tiles come from: the server extension over HTTP (preferred: the kernel can be busy), or
// the widget comm (VS Code, Colab, no extension). Both return decoded ImageBitmaps.
import type { SourceMeta, TileCancelMsg, TileReplyMsg, TileRequestMsg } from "../protocol";

export interface TileSource {
  kind: "server" | "comm";
  fetchTile(level: number, col: number, row: number, frame: number, signal?: AbortSignal): Promise<ImageBitmap>;
  describe(): string;
}

interface PageConfig {
  baseUrl?: string;
  token?: string;
  serverRoot?: string;
}

export function pageConfig(): PageConfig | null {
  const el = typeof document !== "undefined" ? document.getElementById("jupyter-config-data") : null;
  if (!el?.textContent) return null;
  try {
    return JSON.parse(el.textContent);
  } catch {
    return null;
  }
}

function encodePath(p: string): string {
  return p.split("/").map(encodeURIComponent).join("/");
}

/** The slide's route path ("@token" or root-relative path), or null when it cannot be known. */
export function routePath(meta: SourceMeta, cfg: PageConfig | null): string | null {
  if (meta.token) return "@" + meta.token;
  if (meta.abs_path && cfg?.serverRoot) {
    let root = cfg.serverRoot.replace(/\\/g, "/").replace(/\/+$/, "");
    const abs = meta.abs_path.replace(/\\/g, "/");
    if (root.startsWith("~") && meta.abs_path.startsWith("/")) root = ""; // cannot expand ~ here
    if (root && (abs === root || abs.startsWith(root + "/"))) return abs.slice(root.length + 1);
  }
  return meta.path ?? null;
}

export class HttpTiles implements TileSource {
  kind = "server" as const;
  constructor(private base: string, private path: string, private meta: SourceMeta, private token?: string) {}

  static async detect(meta: SourceMeta, timeoutMs = 8000): Promise<HttpTiles> {
    const cfg = pageConfig();
    if (!cfg || cfg.baseUrl === undefined) throw new Error("no Jupyter server page here (not JupyterLab or Notebook)");
    const path = routePath(meta, cfg);
    if (!path) throw new Error("the slide is not under the Jupyter server's root directory");
    const base = (cfg.baseUrl.endsWith("/") ? cfg.baseUrl : cfg.baseUrl + "/") + "exact-lab/";
    const src = new HttpTiles(base, path, meta, cfg.token || undefined);
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), timeoutMs);
    let res: Response;
    try {
      res = await fetch(base + "info/" + encodePath(path), { headers: src.headers(), signal: ctrl.signal, credentials: "same-origin" });
    } catch (e) {
      throw new Error(`the server extension did not answer (${(e as Error).message})`);
    } finally {
      clearTimeout(timer);
    }
    if (!res.ok) {
      let reason = "";
      try {
        reason = (await res.text()).slice(0, 200);
      } catch {}
      throw new Error(`the server extension answered HTTP ${res.status} for ${path}${reason ? `: ${reason}` : ""}`);
    }
    return src;
  }

  private headers(): Record<string, string> {
    return this.token ? { Authorization: `token ${this.token}` } : {};
  }

  url(level: number, col: number, row: number, frame: number): string {
    const q: string[] = [];
    if (this.meta.hash) q.push("v=" + encodeURIComponent(this.meta.hash));
    if (frame) q.push("frame=" + frame);
    return `${this.base}dz/${encodePath(this.path)}_files/${level}/${col}_${row}.${this.meta.format}${q.length ? "?" + q.join("&") : ""}`;
  }

  async fetchTile(level: number, col: number, row: number, frame: number, signal?: AbortSignal): Promise<ImageBitmap> {
    const res = await fetch(this.url(level, col, row, frame), { headers: this.headers(), signal, credentials: "same-origin" });
    if (!res.ok) throw new Error(`tile ${level}/${col}_${row}: HTTP ${res.status}`);
    return createImageBitmap(await res.blob());
  }

  describe(): string {
    return "tiles from the server extension";
  }
}

type Pending = { resolve: (b: ImageBitmap) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> };

/** Tiles over the widget comm: request id, cancel when the tile leaves the view, timeout. */
export class CommTiles implements TileSource {
  kind = "comm" as const;
  private next = 1;
  private pending = new Map<number, Pending>();

  constructor(private send: (msg: TileRequestMsg | TileCancelMsg) => void, private meta: SourceMeta, private timeoutMs = 30000) {}

  fetchTile(level: number, col: number, row: number, frame: number, signal?: AbortSignal): Promise<ImageBitmap> {
    const req = this.next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(req);
        this.send({ type: "tile_cancel", req });
        reject(new Error(`tile ${level}/${col}_${row}: no answer from the kernel in ${this.timeoutMs / 1000} s`));
      }, this.timeoutMs);
      this.pending.set(req, { resolve, reject, timer });
      signal?.addEventListener("abort", () => {
        const p = this.pending.get(req);
        if (!p) return;
        clearTimeout(p.timer);
        this.pending.delete(req);
        this.send({ type: "tile_cancel", req });
        reject(new DOMException("aborted", "AbortError"));
      });
      this.send({ type: "tile", req, level, col, row, frame, format: this.meta.format });
    });
  }

  /** Called with the kernel's answer and, when it is ok, one buffer of the encoded image. */
  async receive(msg: TileReplyMsg, buffers: DataView[]): Promise<void> {
    const p = this.pending.get(msg.req);
    if (!p) return;
    this.pending.delete(msg.req);
    clearTimeout(p.timer);
    if (!msg.ok || !buffers[0]) {
      p.reject(new Error(msg.error || "the kernel could not serve the tile"));
      return;
    }
    try {
      const b = buffers[0];
      const bytes = new Uint8Array(b.buffer as ArrayBuffer, b.byteOffset, b.byteLength);
      p.resolve(await createImageBitmap(new Blob([bytes], { type: msg.mime || "image/jpeg" })));
    } catch (e) {
      p.reject(e as Error);
    }
  }

  describe(): string {
    return "tiles over the kernel comm";
  }
}
