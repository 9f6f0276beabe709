// How long the last batch of chunks took, from the view's hello to the frame that shows it:
// reported to the kernel once per batch (viewer.perf; benchmarks/viewer.py reads it).
import type { DrawnMsg } from "../protocol";

export class BatchTiming {
  private hello = 0;
  private batch = -1;
  private firstChunk = 0;
  private done = 0;
  private bytes = 0;
  /** false from a batch's `done` until its report is sent */
  reported = true;

  helloSent(now = performance.now()): void {
    this.hello = now;
  }

  chunk(batch: number, bytes: number, now = performance.now()): void {
    this.start(batch, now);
    this.bytes += bytes;
  }

  /** Every chunk of `batch` has arrived (a batch of empty layers has none). */
  complete(batch: number, now = performance.now()): void {
    this.done = now;
    this.start(batch, now);
    this.reported = false;
  }

  private start(batch: number, now: number): void {
    if (batch === this.batch) return;
    this.batch = batch;
    this.firstChunk = now;
    this.bytes = 0;
  }

  /** The report of a completed batch now on screen, once; null when there is none to send. */
  drawn(gen: number, now = performance.now()): DrawnMsg | null {
    if (this.reported) return null;
    this.reported = true;
    return {
      type: "drawn",
      gen,
      batch: this.batch,
      since_hello_ms: now - this.hello,
      receive_ms: this.done - (this.firstChunk || this.done),
      render_ms: now - this.done,
      bytes: this.bytes,
    };
  }
}
