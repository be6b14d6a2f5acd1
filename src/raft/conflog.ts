// Membership as of the end of the log. A configuration takes effect when its entry is appended
// (not when committed, §4.1 of Ongaro's thesis), so truncating a conf entry must revert it: keep
// the membership after each uncommitted conf entry on a stack.
import { applyConfChange, copyConf, decodeConfChange } from "./confchange.ts";
import type { ConfState, Entry } from "./types.ts";

interface ConfPoint {
  index: number;
  conf: ConfState;
}

export class ConfLog {
  private base: ConfState;
  private points: ConfPoint[] = [];

  constructor(base: ConfState) {
    this.base = copyConf(base);
  }

  current(): ConfState {
    return this.points[this.points.length - 1]?.conf ?? this.base;
  }

  /** Index of the newest conf entry still in the stack (0 when none since the base). */
  lastIndex(): number {
    return this.points[this.points.length - 1]?.index ?? 0;
  }

  /** Applies the conf entries among freshly appended `entries`; true if membership changed. */
  append(entries: readonly Entry[]): boolean {
    let changed = false;
    for (const e of entries) {
      if (e.type !== "conf") continue;
      this.points.push({
        index: e.index,
        conf: applyConfChange(this.current(), decodeConfChange(e.data)),
      });
      changed = true;
    }
    return changed;
  }

  /** Drops conf entries at or after `index` (the log is truncated there); true if any. */
  truncateFrom(index: number): boolean {
    const keep = this.points.filter((p) => p.index < index);
    const changed = keep.length !== this.points.length;
    this.points = keep;
    return changed;
  }

  /** Committed conf entries can no longer be truncated: fold them into the base. */
  commitTo(index: number): void {
    while (this.points.length > 0 && this.points[0]!.index <= index)
      this.base = this.points.shift()!.conf;
  }

  reset(base: ConfState): void {
    this.base = copyConf(base);
    this.points = [];
  }
}
