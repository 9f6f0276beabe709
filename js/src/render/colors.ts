export type RGBA = [number, number, number, number];

export function hexToRgba(hex: string, alpha = 255): RGBA {
  const h = (hex || "#ff0000").replace("#", "");
  const full = h.length === 3 ? h.split("").map((c) => c + c).join("") : h.padEnd(6, "0");
  const n = parseInt(full.slice(0, 6), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255, alpha];
}

export const SELECTED: RGBA = [255, 255, 255, 255];
export const SELECTED_FILL: RGBA = [255, 255, 0, 70];
export const HANDLE_FILL: RGBA = [255, 255, 255, 255];
export const HANDLE_LINE: RGBA = [20, 20, 20, 255];
export const DRAFT: RGBA = [0, 255, 255, 255];
