// The status line's texts, from plain values (so they are tested without a page).
import type { Level } from "../protocol";

/** A notice stays on the status line this long. */
export const NOTICE_MS = 8000;

export interface StatusInput {
  scale: number;
  objectivePower: number | null;
  mpp: number | null;
  /** the pointer on the image (level-0 pixels), if it has been there */
  cursor: { x: number; y: number } | null;
  annotations: number;
  /** some layer is drawn as a density map */
  density: boolean;
  /** every chunk has arrived */
  complete: boolean;
  selected: number;
  tiles: "server" | "comm" | null;
  tileError: boolean;
  failedTiles: number;
  /** edits not yet acknowledged by the kernel */
  unsent: number;
  /** the kernel's store has committed every edit */
  saved: boolean;
  notice: { text: string; level: Level; at: number } | null;
  now: number;
}

export interface StatusTexts {
  zoom: string;
  cursor: string;
  counts: string;
  selection: string;
  transport: string;
  saved: string;
  msg: { text: string; level: Level } | null;
}

export function statusTexts(i: StatusInput): StatusTexts {
  const mag = i.objectivePower ? ` (${(i.objectivePower * i.scale).toFixed(1)}×)` : "";
  let cursor = "";
  if (i.cursor) {
    const um = i.mpp ? ` · ${(i.cursor.x * i.mpp).toFixed(1)}, ${(i.cursor.y * i.mpp).toFixed(1)} µm` : "";
    cursor = `x ${Math.round(i.cursor.x)} y ${Math.round(i.cursor.y)} px${um}`;
  }
  let transport = i.tiles ? (i.tiles === "server" ? "tiles: server" : "tiles: comm") : i.tileError ? "tiles: none" : "tiles: …";
  if (i.failedTiles) transport += ` (${i.failedTiles} failed)`;
  const n = i.notice;
  return {
    zoom: `zoom ${i.scale >= 1 ? i.scale.toFixed(2) : i.scale.toPrecision(2)}${mag}`,
    cursor,
    counts: `${i.annotations.toLocaleString()} annotations${i.density ? " (density)" : ""}${i.complete ? "" : " (loading…)"}`,
    selection: i.selected ? `${i.selected.toLocaleString()} selected` : "",
    transport,
    saved: i.unsent ? "saving…" : i.saved ? "saved" : "committing…",
    msg: n && i.now - n.at < NOTICE_MS ? { text: n.text, level: n.level } : null,
  };
}
