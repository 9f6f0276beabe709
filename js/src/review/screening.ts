// The screening grid of the `_screening` trait, the same rule as exact_lab/review/grid.py:
// tiles in reading order, the last column and row end at the image's edge.
import type { ScreeningState } from "../widget-model";

export type Box = [number, number, number, number];

export function tileBounds(g: ScreeningState, index: number): Box {
  const col = index % g.cols;
  const row = Math.floor(index / g.cols);
  const x0 = Math.min(col * g.step_x, Math.max(0, g.width - g.tile_width));
  const y0 = Math.min(row * g.step_y, Math.max(0, g.height - g.tile_height));
  return [x0, y0, Math.min(g.width, x0 + g.tile_width), Math.min(g.height, y0 + g.tile_height)];
}

/** The trait when a screening is attached, else null (the trait is {} without one). */
export function screeningOf(value: ScreeningState | Record<string, never> | undefined): ScreeningState | null {
  return value && "tiles" in value ? (value as ScreeningState) : null;
}

/** The status line's text for screening or the review queue ("" for neither). */
export function reviewText(screening: ScreeningState | null, review: { position?: number; total?: number; done?: boolean } | undefined): string {
  const parts: string[] = [];
  if (screening) {
    const pct = Math.round((100 * screening.visited.length) / Math.max(1, screening.tiles.length));
    parts.push(`screened ${screening.visited.length}/${screening.tiles.length} (${pct}%)`);
  }
  if (review && typeof review.total === "number") {
    parts.push(review.total ? `review ${Math.min(review.total, (review.position ?? 0) + 1)}/${review.total}${review.done ? " (end)" : ""}` : "review queue empty");
  }
  return parts.join(" · ");
}
