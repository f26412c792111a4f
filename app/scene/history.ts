// Undo and redo of the whole scene. A step is the scene as it was before a move: a structural
// move (load, edit added, tap) is one step; a run of value changes to one parameter from one
// source (a slider drag, a knob turn) is one step too, however many values it sent. Undoing
// restores the snapshot, so each earlier state comes back exactly.

export interface HistoryOptions<S> {
  /** The scene now. */
  capture(): S;
  /** Puts a captured scene back; its own changes are not new steps. */
  restore(snapshot: S): Promise<void>;
  /** Value changes to one parameter closer than this (ms) are one step. */
  groupMs?: number;
  /** Steps kept; the oldest go first. */
  limit?: number;
  now?: () => number;
}

export class SceneHistory<S> {
  private readonly undos: S[] = [];
  private readonly redos: S[] = [];
  private lastKey: string | undefined;
  private lastAt = -Infinity;
  private restoring = false;
  private readonly groupMs: number;
  private readonly limit: number;
  private readonly now: () => number;

  constructor(private readonly o: HistoryOptions<S>) {
    this.groupMs = o.groupMs ?? 800;
    this.limit = o.limit ?? 200;
    this.now = o.now ?? Date.now;
  }

  /**
   * A move is about to happen (structural moves: before they run) or has just happened to a value
   * (`before` is the scene as it was, rebuilt by the caller from the change's previous value).
   * `key` groups value changes: the same key again within groupMs continues the step.
   */
  record(before: S | (() => S), key?: string): void {
    if (this.restoring) return;
    const t = this.now();
    const continues = key !== undefined && key === this.lastKey && t - this.lastAt < this.groupMs;
    this.lastKey = key;
    this.lastAt = t;
    if (continues) return;
    this.undos.push(typeof before === 'function' ? (before as () => S)() : before);
    if (this.undos.length > this.limit) this.undos.shift();
    this.redos.length = 0;
  }

  /**
   * Runs a synchronous move as the one step `before` (value changes it makes on the way are part
   * of it, not steps of their own).
   */
  as<T>(before: S, fn: () => T): T {
    const was = this.restoring;
    this.restoring = true;
    let result: T;
    try {
      result = fn();
    } finally {
      this.restoring = was;
    }
    this.record(before);
    return result;
  }

  /** Ends the current value step: the next change starts a new one (a released slider). */
  cut(): void {
    this.lastKey = undefined;
  }

  get canUndo(): boolean {
    return this.undos.length > 0;
  }

  get canRedo(): boolean {
    return this.redos.length > 0;
  }

  get depth(): { undo: number; redo: number } {
    return { undo: this.undos.length, redo: this.redos.length };
  }

  async undo(): Promise<boolean> {
    return this.move(this.undos, this.redos);
  }

  async redo(): Promise<boolean> {
    return this.move(this.redos, this.undos);
  }

  private async move(from: S[], to: S[]): Promise<boolean> {
    const snapshot = from.pop();
    if (snapshot === undefined) return false;
    to.push(this.o.capture());
    this.restoring = true;
    try {
      await this.o.restore(snapshot);
    } finally {
      this.restoring = false;
      this.cut();
    }
    return true;
  }
}
