// A uniform grid over one chunk's shapes for hit tests and area selection (CSR layout: one
// counting pass, one fill pass; shapes spanning many cells go to a short list scanned linearly).

const MAX_CELLS_PER_SHAPE = 16;

export class GridIndex {
  private nx: number;
  private ny: number;
  private x0: number;
  private y0: number;
  private cw: number;
  private ch: number;
  private cellStart: Uint32Array;
  private items: Uint32Array;
  private big: number[] = [];
  private stamp: Uint32Array;
  private stampValue = 0;

  constructor(bounds: Float32Array, count: number, bbox: ArrayLike<number>) {
    const side = Math.max(1, Math.min(512, Math.ceil(Math.sqrt(count / 2))));
    this.x0 = bbox[0];
    this.y0 = bbox[1];
    const w = Math.max(1e-6, bbox[2] - bbox[0]), h = Math.max(1e-6, bbox[3] - bbox[1]);
    // square-ish cells
    const aspect = w / h;
    this.nx = Math.max(1, Math.round(side * Math.sqrt(aspect)));
    this.ny = Math.max(1, Math.round(side / Math.sqrt(aspect)));
    this.cw = w / this.nx;
    this.ch = h / this.ny;
    const counts = new Uint32Array(this.nx * this.ny + 1);
    const range = (i: number) => {
      const cx0 = this.cx(bounds[4 * i]), cy0 = this.cy(bounds[4 * i + 1]);
      const cx1 = this.cx(bounds[4 * i + 2]), cy1 = this.cy(bounds[4 * i + 3]);
      return [cx0, cy0, cx1, cy1];
    };
    const isBig = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      const [cx0, cy0, cx1, cy1] = range(i);
      if ((cx1 - cx0 + 1) * (cy1 - cy0 + 1) > MAX_CELLS_PER_SHAPE) {
        isBig[i] = 1;
        this.big.push(i);
        continue;
      }
      for (let y = cy0; y <= cy1; y++) for (let x = cx0; x <= cx1; x++) counts[y * this.nx + x + 1]++;
    }
    for (let c = 1; c < counts.length; c++) counts[c] += counts[c - 1];
    this.cellStart = counts;
    this.items = new Uint32Array(counts[counts.length - 1]);
    const fill = counts.slice(0, counts.length - 1);
    for (let i = 0; i < count; i++) {
      if (isBig[i]) continue;
      const [cx0, cy0, cx1, cy1] = range(i);
      for (let y = cy0; y <= cy1; y++) for (let x = cx0; x <= cx1; x++) this.items[fill[y * this.nx + x]++] = i;
    }
    this.stamp = new Uint32Array(count);
  }

  private cx(x: number): number {
    return Math.max(0, Math.min(this.nx - 1, Math.floor((x - this.x0) / this.cw)));
  }

  private cy(y: number): number {
    return Math.max(0, Math.min(this.ny - 1, Math.floor((y - this.y0) / this.ch)));
  }

  /** Calls visit(i) once for each shape whose cell range overlaps the rectangle. */
  query(x0: number, y0: number, x1: number, y1: number, visit: (i: number) => void): void {
    if (++this.stampValue === 0xffffffff) {
      this.stamp.fill(0);
      this.stampValue = 1;
    }
    const s = this.stampValue;
    const cx0 = this.cx(x0), cy0 = this.cy(y0), cx1 = this.cx(x1), cy1 = this.cy(y1);
    for (let y = cy0; y <= cy1; y++) {
      for (let x = cx0; x <= cx1; x++) {
        const cell = y * this.nx + x;
        for (let k = this.cellStart[cell]; k < this.cellStart[cell + 1]; k++) {
          const i = this.items[k];
          if (this.stamp[i] !== s) {
            this.stamp[i] = s;
            visit(i);
          }
        }
      }
    }
    for (const i of this.big) visit(i);
  }
}
