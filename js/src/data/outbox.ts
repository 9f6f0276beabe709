// Edits on their way to the kernel: collected for a short moment, the latest state per shape
// wins, then sent as one message of small deltas by id (coordinates in one float64 buffer).
import type { EditOp, EditsMsg, Shape } from "../protocol";

export class Outbox {
  private queue = new Map<number, Shape | null>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private seq = 0;
  /** id -> seq of the newest edit the kernel has not acknowledged yet */
  private pending = new Map<number, number>();
  lastAcked = 0;
  onStateChange: () => void = () => {};

  constructor(private send: (msg: EditsMsg, buffers: ArrayBuffer[]) => void, private delayMs = 120) {}

  put(s: Shape): void {
    this.queue.set(s.id, s);
    this.schedule();
  }

  delete(id: number): void {
    this.queue.set(id, null);
    this.schedule();
  }

  isPending(id: number): boolean {
    return this.queue.has(id) || this.pending.has(id);
  }

  get unsent(): number {
    return this.queue.size + this.pending.size;
  }

  private schedule(): void {
    this.onStateChange();
    if (this.timer === null) this.timer = setTimeout(() => this.flush(), this.delayMs);
  }

  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (!this.queue.size) return;
    const seq = ++this.seq;
    const ops: EditOp[] = [];
    const coords: number[] = [];
    for (const [id, s] of this.queue) {
      this.pending.set(id, seq);
      if (!s) {
        ops.push({ op: "delete", id });
        continue;
      }
      ops.push({ op: "put", id, uuid: s.uuid, layer: s.layer, kind: s.kind, n: s.coords.length / 2, rings: s.rings });
      for (const v of s.coords) coords.push(v);
    }
    this.queue.clear();
    this.send({ type: "edits", seq, ops }, [new Float64Array(coords).buffer]);
    this.onStateChange();
  }

  ack(seq: number): void {
    this.lastAcked = Math.max(this.lastAcked, seq);
    for (const [id, s] of this.pending) if (s <= seq) this.pending.delete(id);
    this.onStateChange();
  }
}
