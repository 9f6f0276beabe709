// The superpixels of the view the kernel computed (`superpixels`): their boundaries as an image
// over their level-0 box, drawn above the labels so the user sees what a click fills.
import type { SuperpixelsMsg } from "../protocol";

export interface SuperpixelOverlay {
  bbox: [number, number, number, number];
  count: number;
  method: string;
  image: ImageData;
}

/** Boundary pixels (1) become opaque yellow, the rest transparent. */
export function superpixelOverlay(msg: SuperpixelsMsg, buffer: DataView | undefined): SuperpixelOverlay | null {
  if (!buffer || buffer.byteLength < msg.width * msg.height) return null;
  const edges = new Uint8Array(buffer.buffer, buffer.byteOffset, msg.width * msg.height);
  const rgba = new Uint8ClampedArray(msg.width * msg.height * 4);
  const px = new Uint32Array(rgba.buffer);
  const yellow = 0xff00e6ff; // RGBA bytes ff e6 00 ff, little-endian
  for (let i = 0; i < edges.length; i++) if (edges[i]) px[i] = yellow;
  return { bbox: msg.bbox, count: msg.count, method: msg.method, image: new ImageData(rgba, msg.width, msg.height) };
}
