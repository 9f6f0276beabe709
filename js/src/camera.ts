// The view in level-0 pixel coordinates: a centre and a scale (screen pixels per image pixel,
// kept as log2 "zoom" for deck.gl's OrthographicView).

export class Camera {
  cx = 0;
  cy = 0;
  zoom = 0;
  width = 1;
  height = 1;
  minZoom = -12;
  maxZoom = 5;

  get scale(): number {
    return 2 ** this.zoom;
  }

  viewState() {
    return { target: [this.cx, this.cy, 0] as [number, number, number], zoom: this.zoom };
  }

  toWorld(sx: number, sy: number): [number, number] {
    return [this.cx + (sx - this.width / 2) / this.scale, this.cy + (sy - this.height / 2) / this.scale];
  }

  toScreen(x: number, y: number): [number, number] {
    return [(x - this.cx) * this.scale + this.width / 2, (y - this.cy) * this.scale + this.height / 2];
  }

  bounds(): [number, number, number, number] {
    const [x0, y0] = this.toWorld(0, 0);
    const [x1, y1] = this.toWorld(this.width, this.height);
    return [x0, y0, x1, y1];
  }

  setZoom(z: number): void {
    this.zoom = Math.max(this.minZoom, Math.min(this.maxZoom, z));
  }

  /** Zoom by dz (log2 units) keeping the image point under (sx, sy) in place. */
  zoomAt(sx: number, sy: number, dz: number): void {
    const [wx, wy] = this.toWorld(sx, sy);
    this.setZoom(this.zoom + dz);
    this.cx = wx - (sx - this.width / 2) / this.scale;
    this.cy = wy - (sy - this.height / 2) / this.scale;
  }

  panBy(dxPx: number, dyPx: number): void {
    this.cx -= dxPx / this.scale;
    this.cy -= dyPx / this.scale;
  }

  goto(x: number, y: number, scale?: number | null): void {
    this.cx = x;
    this.cy = y;
    if (scale && scale > 0) this.setZoom(Math.log2(scale));
  }

  fit(b: [number, number, number, number], padPx = 10): void {
    const w = Math.max(1e-6, b[2] - b[0]), h = Math.max(1e-6, b[3] - b[1]);
    const s = Math.min((this.width - 2 * padPx) / w, (this.height - 2 * padPx) / h);
    this.cx = (b[0] + b[2]) / 2;
    this.cy = (b[1] + b[3]) / 2;
    this.setZoom(Math.log2(Math.max(s, 1e-9)));
  }

  /** Keep some of the image in view so it cannot be lost off-screen. */
  clamp(width: number, height: number): void {
    this.cx = Math.max(0, Math.min(width, this.cx));
    this.cy = Math.max(0, Math.min(height, this.cy));
  }
}
