// One texture per mask tile drawn, kept across frames and brought up to date by uploading only
// the box that changed since (the tile's DirtyLog). Handing deck.gl a new ImageData per move made
// it create a new 512 x 512 texture with a full mipmap chain every time: ~85 ms of software WebGL
// per brush frame (docs/masks.md). One set per view: each view has its own WebGL device.
import type { Device, Texture } from "@luma.gl/core";
import { Box, cropRgba } from "../masks/dirty";
import type { MaskTile } from "../masks/tiles";

/** Where the textures live: luma.gl in the browser (`lumaSink`), a recorder in the tests. */
export interface TextureSink<T> {
  create(width: number, height: number): T;
  /** the whole texture from `rgba` (width x height x 4 bytes) */
  writeAll(texture: T, rgba: Uint8ClampedArray<ArrayBuffer>): void;
  /** `box` of the texture from `crop` (the box's own rows, packed) */
  writeBox(texture: T, crop: Uint8ClampedArray<ArrayBuffer>, box: Box): void;
  destroy(texture: T): void;
}

/** Draws a texture not asked for in this many frames is dropped (1 MB each). */
const KEEP_FRAMES = 30;

interface Entry<T> {
  texture: T;
  width: number;
  height: number;
  version: number;
  used: number;
}

export class MaskTextures<T> {
  private entries = new Map<string, Entry<T>>();
  private clock = 0;

  constructor(private sink: TextureSink<T>) {}

  /** A new frame: textures not asked for lately are released. */
  frame(): void {
    this.clock++;
    for (const [k, e] of this.entries)
      if (e.used < this.clock - KEEP_FRAMES) {
        this.sink.destroy(e.texture);
        this.entries.delete(k);
      }
  }

  /** The tile's texture, with what changed since the last upload uploaded (null: no colours yet). */
  texture(t: MaskTile): T | null {
    if (!t.rgba) return null;
    let e = this.entries.get(t.key);
    if (e && (e.width !== t.width || e.height !== t.height)) {
      this.sink.destroy(e.texture);
      e = undefined;
    }
    if (!e) {
      e = { texture: this.sink.create(t.width, t.height), width: t.width, height: t.height, version: -1, used: 0 };
      this.entries.set(t.key, e);
    }
    e.used = this.clock;
    const change = e.version < 0 ? "all" : t.changes.since(e.version);
    if (change === "all") this.sink.writeAll(e.texture, t.rgba);
    else if (change && change[2] > change[0] && change[3] > change[1]) this.sink.writeBox(e.texture, cropRgba(t.rgba, t.width, change), change);
    e.version = t.changes.version;
    return e.texture;
  }

  destroy(): void {
    for (const e of this.entries.values()) this.sink.destroy(e.texture);
    this.entries.clear();
  }
}

// labels are categories: nearest, never blended between classes; one level, so no mipmaps to
// rebuild after an upload
const NEAREST = { minFilter: "nearest", magFilter: "nearest", addressModeU: "clamp-to-edge", addressModeV: "clamp-to-edge" } as const;

export function lumaSink(device: Device): TextureSink<Texture> {
  return {
    create: (width, height) => device.createTexture({ format: "rgba8unorm", width, height, mipLevels: 1, sampler: NEAREST }),
    writeAll: (texture, rgba) => texture.copyImageData({ data: rgba }),
    writeBox: (texture, crop, [i0, j0, i1, j1]) =>
      texture.copyExternalImage({ image: new ImageData(crop, i1 - i0, j1 - j0), x: i0, y: j0, width: i1 - i0, height: j1 - j0 }),
    destroy: (texture) => texture.destroy(),
  };
}
