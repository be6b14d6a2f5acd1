// The pipelining window towards one follower: `app` messages sent but not yet acknowledged.
import { assert } from "./assert.ts";

interface Inflight {
  /** Last entry index carried by the message. */
  index: number;
  bytes: number;
}

export class Inflights {
  private items: Inflight[] = [];

  constructor(readonly messagesMax: number) {
    assert(messagesMax >= 1, "inflightMessagesMax must be at least 1");
  }

  get count(): number {
    return this.items.length;
  }

  get bytes(): number {
    return this.items.reduce((sum, it) => sum + it.bytes, 0);
  }

  full(): boolean {
    return this.items.length >= this.messagesMax;
  }

  add(index: number, bytes: number): void {
    assert(!this.full(), "inflights: adding to a full window");
    const last = this.items[this.items.length - 1];
    assert(last === undefined || last.index < index, "inflights: indexes must increase");
    this.items.push({ index, bytes });
  }

  /** Frees every message whose last index is at or below `index` (the follower acked it). */
  freeLE(index: number): void {
    let n = 0;
    while (n < this.items.length && this.items[n]!.index <= index) n++;
    if (n > 0) this.items.splice(0, n);
  }

  /** Frees the oldest message: a heartbeat response proves the follower is alive. */
  freeFirstOne(): void {
    this.items.shift();
  }

  reset(): void {
    this.items = [];
  }
}
