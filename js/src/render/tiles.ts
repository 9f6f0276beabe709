// The slide pyramid as a deck.gl TileLayer in level-0 pixel coordinates. Deep Zoom level L has
// downsample 2^(max_level - L); deck's tile zoom z maps to L = max_level + z (z <= 0), and with
// tileSize = the Deep Zoom tile size each deck tile is exactly one Deep Zoom tile.
import { TileLayer } from "@deck.gl/geo-layers";
import { BitmapLayer } from "@deck.gl/layers";
import type { SourceMeta } from "../protocol";
import type { TileSource } from "../transport/tiles";
import { AdjustExtension, Adjustments } from "./adjust";

const ADJUST = new AdjustExtension();

/** True when the adjustments change nothing: then tiles skip the extra shader work. */
function identity(a: Adjustments): boolean {
  return a.brightness === 0 && a.contrast === 1 && a.gamma === 1 && a.channels.every(Boolean);
}

interface TileData {
  image: ImageBitmap;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export interface TileStats {
  loaded: number;
  failed: number;
  lastError: string | null;
}

export function slideLayer(
  meta: SourceMeta,
  source: TileSource,
  frame: number,
  adjustments: Adjustments,
  stats: TileStats,
  onChange: () => void,
): TileLayer<TileData | null> {
  const ts = meta.tile_size, ov = meta.overlap;
  return new TileLayer<TileData | null>({
    id: `slide-${source.kind}-${frame}`,
    tileSize: ts,
    minZoom: -meta.max_level,
    maxZoom: 0,
    extent: [0, 0, meta.width, meta.height],
    maxRequests: source.kind === "comm" ? 4 : 8,
    // placeholders from other levels only where a tile is missing: no overdraw while panning
    refinementStrategy: "no-overlap",
    // keep enough tiles for a few screens of panning back and forth
    maxCacheSize: 400,
    adjustments,
    updateTriggers: { getTileData: [frame, source.kind] },
    getTileData: async ({ index, signal }: any) => {
      const level = meta.max_level + index.z;
      if (level < 0) return null;
      const image = await source.fetchTile(level, index.x, index.y, frame, signal);
      const ds = 2 ** (meta.max_level - level);
      const left = index.x * ts - (index.x > 0 ? ov : 0);
      const top = index.y * ts - (index.y > 0 ? ov : 0);
      stats.loaded++;
      return { image, x0: left * ds, y0: top * ds, x1: (left + image.width) * ds, y1: (top + image.height) * ds };
    },
    onTileError: (err: any) => {
      if (err?.name === "AbortError") return;
      stats.failed++;
      stats.lastError = String(err?.message ?? err);
      onChange();
    },
    onTileLoad: () => onChange(),
    renderSubLayers: (props: any) => {
      const d = props.data as TileData | null;
      if (!d) return null;
      return new BitmapLayer({
        id: props.id,
        image: d.image,
        // corners: bottom-left, top-left, top-right, bottom-right of the image (y grows down)
        bounds: [[d.x0, d.y1], [d.x0, d.y0], [d.x1, d.y0], [d.x1, d.y1]] as any,
        textureParameters: { minFilter: "linear", magFilter: "nearest" } as any,
        // software rasterisers pay for every fragment instruction: no adjustment, no extension
        extensions: identity(props.adjustments) ? [] : [ADJUST],
        adjustments: props.adjustments,
      } as any);
    },
  } as any);
}
