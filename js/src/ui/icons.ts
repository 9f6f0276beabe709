// Toolbar icons as inline SVG (font glyphs for these are missing on many systems).
const S = (body: string) =>
  `<svg viewBox="0 0 20 20" width="16" height="16" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round">${body}</svg>`;

export const ICONS: Record<string, string> = {
  pan: S('<path d="M10 2v16M2 10h16M10 2l-2.5 2.5M10 2l2.5 2.5M10 18l-2.5-2.5M10 18l2.5-2.5M2 10l2.5-2.5M2 10l2.5 2.5M18 10l-2.5-2.5M18 10l-2.5 2.5"/>'),
  select: S('<path d="M4 3l11 7-5 1-2 5z" fill="currentColor" stroke="none"/>'),
  lasso: S('<path d="M6 15c-3-2-3-7 2-9s10 0 9 4-7 4-9 2"/><path d="M6 15l-1 3"/>'),
  box: S('<rect x="3" y="5" width="14" height="10"/>'),
  fixed_box: S('<rect x="4" y="4" width="12" height="12"/><circle cx="10" cy="10" r="1.2" fill="currentColor"/>'),
  point: S('<circle cx="10" cy="10" r="3" fill="currentColor"/>'),
  ellipse: S('<ellipse cx="10" cy="10" rx="7" ry="5"/>'),
  line: S('<path d="M4 16L16 4"/><circle cx="4" cy="16" r="1.3" fill="currentColor"/><circle cx="16" cy="4" r="1.3" fill="currentColor"/>'),
  polyline: S('<path d="M3 15l5-8 4 6 5-9"/>'),
  polygon: S('<path d="M10 3l7 5-3 9H6L3 8z"/>'),
  brush: S('<path d="M16 3l-7 8"/><path d="M9 11c-2 0-4 1.5-4 4 0 1-1 2-2 2 3 1 7 0 7-4z" fill="currentColor"/>'),
  fill: S('<path d="M4 6c3-4 10-4 12 1s-3 9-7 8-8-5-5-9z" fill="currentColor" fill-opacity=".45"/>'),
  superpixel: S('<path d="M3 3h6v5H3zM9 3h8v7H9zM3 8h6v9H3zM9 10h8v7H9z"/>'),
  undo: S('<path d="M7 5L3 9l4 4"/><path d="M3 9h9a5 5 0 010 10h-2"/>'),
  redo: S('<path d="M13 5l4 4-4 4"/><path d="M17 9H8a5 5 0 000 10h2"/>'),
  delete: S('<path d="M4 6h12M8 6V4h4v2M6 6l1 11h6l1-11"/>'),
  fit: S('<path d="M3 8V3h5M17 8V3h-5M3 12v5h5M17 12v5h-5"/>'),
  panel: S('<path d="M3 5h14M3 10h14M3 15h14"/>'),
  prev: S('<path d="M12 4l-6 6 6 6"/>'),
  next: S('<path d="M8 4l6 6-6 6"/>'),
};

export function icon(name: string): HTMLElement {
  const span = document.createElement("span");
  span.innerHTML = ICONS[name] ?? name;
  span.style.display = "inline-flex";
  return span;
}
