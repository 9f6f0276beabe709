// Dynamic resolution: while the view moves, a slow (software) renderer draws at a lower
// resolution so panning stays fluid; the full resolution comes back when it stops. The step that
// kept up is remembered for the next movement.

/** Resolutions tried while the view moves, finest first (1 = device pixels). */
export const RES_STEPS = [1, 0.5, 0.34, 0.25];
/** Frames slower than this (~35 fps), judged over a few, step the resolution down. */
const SLOW_FRAME_MS = 28;
/** Frames this fast when a movement ends let the next one start a step finer. */
const FAST_FRAME_MS = 14;
const FRAMES_TO_JUDGE = 4;
/** No movement for this long: the movement has ended. */
const STILL_MS = 300;

export class MotionResolution {
  /** the resolution drawn now */
  resolution = 1;
  private motionScale = 1;
  private moving = false;
  private frameMs = 0;
  private framesAtScale = 0;
  private stillTimer: ReturnType<typeof setTimeout> | null = null;

  /** `apply(scale)` redraws at the new resolution. */
  constructor(private apply: (scale: number) => void, private stillMs = STILL_MS) {}

  get lowRes(): boolean {
    return this.resolution < 1;
  }

  /** The camera moved. */
  moved(): void {
    if (!this.moving) {
      this.moving = true;
      this.set(this.motionScale);
    }
    if (this.stillTimer) clearTimeout(this.stillTimer);
    this.stillTimer = setTimeout(() => this.stopped(), this.stillMs);
  }

  /** A frame was drawn `intervalMs` after the one before (undefined for the first frame). */
  frame(intervalMs: number | undefined): void {
    if (!this.moving || intervalMs === undefined || intervalMs >= 1000) return;
    this.frameMs = this.frameMs ? 0.7 * this.frameMs + 0.3 * intervalMs : intervalMs;
    if (++this.framesAtScale >= FRAMES_TO_JUDGE && this.frameMs > SLOW_FRAME_MS && this.motionScale > RES_STEPS[RES_STEPS.length - 1]) {
      this.motionScale = RES_STEPS[RES_STEPS.indexOf(this.motionScale) + 1];
      this.set(this.motionScale);
    }
  }

  destroy(): void {
    if (this.stillTimer) clearTimeout(this.stillTimer);
  }

  private stopped(): void {
    this.stillTimer = null;
    this.moving = false;
    if (this.frameMs && this.frameMs < FAST_FRAME_MS && this.motionScale < 1) this.motionScale = RES_STEPS[RES_STEPS.indexOf(this.motionScale) - 1];
    this.set(1);
  }

  private set(scale: number): void {
    if (scale === this.resolution) return;
    this.resolution = scale;
    this.frameMs = 0;
    this.framesAtScale = 0;
    this.apply(scale);
  }
}
