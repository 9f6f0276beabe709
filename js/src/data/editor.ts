// Every edit made in the browser goes through here: it changes the store, is recorded for undo
// and redo, and is queued for the kernel.
import type { Shape } from "../protocol";
import type { AnnotationStore } from "./store";
import type { Outbox } from "./outbox";
import { cloneShape } from "../geometry";

export interface Change {
  id: number;
  before: Shape | null;
  after: Shape | null;
}

interface Entry {
  label: string;
  changes: Change[];
}

const MAX_HISTORY = 500;

export class Editor {
  private undoStack: Entry[] = [];
  private redoStack: Entry[] = [];
  private nextId: number;

  constructor(private store: AnnotationStore, private outbox: Outbox) {
    // Ids minted here live above 2^30 (the kernel's own ids stay below), with a random block per
    // page so two browser tabs on one kernel never collide.
    this.nextId = 2 ** 30 + Math.floor(Math.random() * 1000) * 1_000_000;
  }

  /** Called after each recorded edit (the session keeps which history Ctrl+Z reaches). */
  onRecord?: () => void;

  mintId(): number {
    return this.nextId++;
  }

  /** Apply the `after` state of each change, record it, send it. */
  apply(label: string, changes: Change[]): void {
    const real = changes.filter((c) => c.before !== null || c.after !== null);
    if (!real.length) return;
    for (const c of real) this.set(c.id, c.after);
    this.undoStack.push({ label, changes: real.map((c) => ({ id: c.id, before: c.before && cloneShape(c.before), after: c.after && cloneShape(c.after) })) });
    if (this.undoStack.length > MAX_HISTORY) this.undoStack.shift();
    this.redoStack = [];
    this.onRecord?.();
    this.store.emit("edit");
  }

  /** Show a state without recording it (live preview while dragging). */
  preview(s: Shape): void {
    this.store.put(s);
    this.store.emit("preview");
  }

  private set(id: number, state: Shape | null): void {
    if (state) {
      this.store.put(cloneShape(state));
      this.outbox.put(state);
    } else {
      this.store.remove(id);
      this.outbox.delete(id);
    }
  }

  undo(): string | null {
    const e = this.undoStack.pop();
    if (!e) return null;
    for (const c of e.changes) this.set(c.id, c.before);
    this.redoStack.push(e);
    this.store.setSelection(e.changes.filter((c) => c.before).map((c) => c.id));
    return e.label;
  }

  redo(): string | null {
    const e = this.redoStack.pop();
    if (!e) return null;
    for (const c of e.changes) this.set(c.id, c.after);
    this.undoStack.push(e);
    this.store.setSelection(e.changes.filter((c) => c.after).map((c) => c.id));
    return e.label;
  }

  /** Forget every change to shapes of a layer the kernel removed: undoing one would bring a
   * shape back into a layer that no longer exists (or into a new layer of the same name). */
  forgetLayer(key: string): void {
    const keep = (e: Entry): Entry => ({ ...e, changes: e.changes.filter((c) => c.before?.layer !== key && c.after?.layer !== key) });
    this.undoStack = this.undoStack.map(keep).filter((e) => e.changes.length);
    this.redoStack = this.redoStack.map(keep).filter((e) => e.changes.length);
  }

  get canUndo(): boolean {
    return this.undoStack.length > 0;
  }

  get canRedo(): boolean {
    return this.redoStack.length > 0;
  }
}
