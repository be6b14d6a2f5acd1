// An in-memory cache of responses validated by ETag: a hit is never served blindly (except when
// the store is unreachable); it lets a revalidation answer 304 with no body. Bounded, least
// recently used first out, so a long-lived process polling many keys stays small.

export interface Cached<T> {
  etag: string;
  value: T;
}

export class EtagCache<T> {
  readonly #items = new Map<string, Cached<T>>();
  constructor(readonly entriesMax: number) {}

  get(id: string): Cached<T> | undefined {
    const hit = this.#items.get(id);
    if (hit) {
      // Map keeps insertion order: re-inserting marks this entry as most recently used.
      this.#items.delete(id);
      this.#items.set(id, hit);
    }
    return hit;
  }

  set(id: string, etag: string, value: T): void {
    this.#items.delete(id);
    this.#items.set(id, { etag, value });
    while (this.#items.size > this.entriesMax) {
      const oldest = this.#items.keys().next().value as string;
      this.#items.delete(oldest);
    }
  }

  delete(id: string): void {
    this.#items.delete(id);
  }

  get size(): number {
    return this.#items.size;
  }
}
