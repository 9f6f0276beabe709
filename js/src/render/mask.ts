// The pixel-label layer: one bitmap per label tile in view (over the slide, under the vector
// annotations), at the types' colours and the `mask_opacity` trait, and the superpixel boundaries.
import type { Layer } from "@deck.gl/core";
import type { Texture } from "@luma.gl/core";
import { BitmapLayer, ScatterplotLayer } from "@deck.gl/layers";
import type { SuperpixelOverlay } from "../masks/superpixels";
import { MASK_TILE, MaskTile } from "../masks/tiles";
import type { MaskTextures } from "./mask-textures";

// labels are categories: nearest, never blended between classes
const NEAREST = { minFilter: "nearest", magFilter: "nearest", mipmapFilter: undefined } as any;

/** One bitmap per tile with labels, its texture from `textures` (kept across frames, updated
 * where the tile changed); `maskVersion` changes with the tile so deck.gl redraws after an upload. */
export function maskLayers(tiles: MaskTile[], opacity: number, textures: MaskTextures<Texture>): Layer[] {
  const out: Layer[] = [];
  textures.frame();
  for (const t of tiles) {
    if (!t.any) continue;
    const texture = textures.texture(t);
    if (!texture) continue;
    const span = MASK_TILE << t.level;
    const x0 = t.col * span, y0 = t.row * span;
    const x1 = x0 + t.width * (1 << t.level), y1 = y0 + t.height * (1 << t.level);
    out.push(new BitmapLayer({
      id: `mask-${t.key}`,
      image: texture,
      maskVersion: t.changes.version,
      opacity,
      bounds: [[x0, y1], [x0, y0], [x1, y0], [x1, y1]] as any,
    } as any));
  }
  return out;
}

export function superpixelLayer(sp: SuperpixelOverlay | null): Layer[] {
  if (!sp) return [];
  const [x0, y0, x1, y1] = sp.bbox;
  return [new BitmapLayer({
    id: `superpixels-${sp.method}-${sp.count}-${x0}-${y0}`,
    image: sp.image,
    opacity: 0.8,
    bounds: [[x0, y1], [x0, y0], [x1, y0], [x1, y1]] as any,
    textureParameters: NEAREST,
  } as any)];
}

/** The brush's outline at the pointer (level-0 centre and radius). */
export function brushCursorLayer(x: number, y: number, radius: number): Layer[] {
  return [new ScatterplotLayer({
    id: "brush-cursor",
    data: [0],
    getPosition: () => [x, y],
    getRadius: radius,
    radiusUnits: "common",
    stroked: true,
    filled: false,
    getLineColor: [255, 255, 255, 220],
    lineWidthUnits: "pixels",
    getLineWidth: 1.5,
    updateTriggers: { getPosition: [x, y] },
  } as any)];
}
