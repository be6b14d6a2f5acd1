// A first-in first-out queue with O(1) amortized push and shift. The store evicts oldest-first
// from several bounded sets; iterating a Map from its start for that is O(deleted slots) in V8
// (deleted entries stay in the table until it rehashes), which made eviction quadratic.
export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  constructor(items: readonly T[] = []) {
    this.items = [...items];
  }

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined; // let it be collected
    this.head += 1;
    if (this.head >= 1024 && this.head * 2 >= this.items.length) this.retain(() => true);
    return item;
  }

  /** Keeps only the items that pass, in order (drops stale entries of lazily deleted items). */
  retain(keep: (item: T) => boolean): void {
    this.items = (this.items.slice(this.head) as T[]).filter(keep);
    this.head = 0;
  }

  toArray(): T[] {
    return this.items.slice(this.head) as T[];
  }
}
