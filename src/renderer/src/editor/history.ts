/**
 * Undo/redo over immutable snapshots, one entry per user gesture.
 *
 * Callers commit once per gesture (a drag commits when it ends; a paste commits the whole branch at once).
 * Edits that arrive as a stream — typing in a field — pass a `coalesce` key: consecutive commits with the same
 * key fold into one entry until `seal()` (the field loses focus) or a commit with another key. Selection is not
 * part of the history.
 */
export interface CommitOptions {
  /** What the change did, e.g. "Add Prune" (shown as "Undo Add Prune"). */
  label?: string;
  /** Consecutive commits with this key (and no seal in between) become one undo step. */
  coalesce?: string;
}

interface Entry<T> {
  state: T;
  label: string;
}

export class History<T> {
  private past: Entry<T>[] = [];
  private future: Entry<T>[] = [];
  private current: T;
  private openCoalesce: string | null = null;

  constructor(
    initial: T,
    private readonly limit = 200,
  ) {
    this.current = initial;
  }

  get present(): T {
    return this.current;
  }
  get canUndo(): boolean {
    return this.past.length > 0;
  }
  get canRedo(): boolean {
    return this.future.length > 0;
  }
  /** Label of the step undo would revert, or null. */
  get undoLabel(): string | null {
    return this.past.at(-1)?.label ?? null;
  }
  get redoLabel(): string | null {
    return this.future.at(-1)?.label ?? null;
  }
  get depth(): { past: number; future: number } {
    return { past: this.past.length, future: this.future.length };
  }

  /** Record `next` as the new present. Returns false (and records nothing) when `next` is the present. */
  commit(next: T, opts: CommitOptions = {}): boolean {
    if (Object.is(next, this.current)) return false;
    const key = opts.coalesce ?? null;
    if (key !== null && key === this.openCoalesce && this.past.length > 0) {
      // Same stream of edits: keep the entry that holds the state before the stream began.
      this.current = next;
      this.future = [];
      return true;
    }
    this.past.push({ state: this.current, label: opts.label ?? 'Edit' });
    if (this.past.length > this.limit) this.past.shift();
    this.future = [];
    this.current = next;
    this.openCoalesce = key;
    return true;
  }

  /** End the current stream of coalesced edits: the next commit starts a new undo step. */
  seal(): void {
    this.openCoalesce = null;
  }

  /** Step back; returns the label of the undone step, or null when there is nothing to undo. */
  undo(): string | null {
    const e = this.past.pop();
    if (!e) return null;
    this.future.push({ state: this.current, label: e.label });
    this.current = e.state;
    this.openCoalesce = null;
    return e.label;
  }

  redo(): string | null {
    const e = this.future.pop();
    if (!e) return null;
    this.past.push({ state: this.current, label: e.label });
    this.current = e.state;
    this.openCoalesce = null;
    return e.label;
  }

  /** Forget everything (new or opened document). */
  reset(state: T): void {
    this.past = [];
    this.future = [];
    this.current = state;
    this.openCoalesce = null;
  }
}
