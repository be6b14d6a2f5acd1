// A thin driver for tests: applies commands at consecutive log indexes, with a fake clock.
import { Store } from "../../src/store/store.ts";
import type {
  Command,
  StoreOptions,
  TxnCompare,
  TxnOp,
  WriteOutcome,
} from "../../src/store/types.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const bytes = (s: string): Uint8Array => encoder.encode(s);

/** A txn's put of a text value. */
export const putOp = (key: string, value: string): TxnOp => ({
  type: "put",
  key,
  value: bytes(value),
  contentType: "text/plain",
});
export const text = (b: Uint8Array | null | undefined): string | null =>
  b ? decoder.decode(b) : null;

type Without<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type CommandInput = Without<Command, "atMs"> & { atMs?: number };

export class Driver {
  index = 0;
  nowMs = 1_700_000_000_000;
  constructor(public store: Store = new Store()) {}

  static with(options: Partial<StoreOptions>): Driver {
    return new Driver(new Store(options));
  }

  apply(command: CommandInput): WriteOutcome {
    this.index += 1;
    this.nowMs += 1000;
    const outcome = this.store.apply(this.index, { atMs: this.nowMs, ...command } as Command);
    this.store.checkInvariants();
    return outcome;
  }

  put(
    key: string,
    value: string,
    extra: {
      ifMatch?: number;
      ifNoneMatch?: "*";
      idempotencyKey?: string;
      contentType?: string;
    } = {},
  ): WriteOutcome {
    return this.apply({
      type: "put",
      key,
      value: bytes(value),
      contentType: extra.contentType ?? "text/plain",
      ...withoutContentType(extra),
    });
  }

  del(key: string, extra: { ifMatch?: number; idempotencyKey?: string } = {}): WriteOutcome {
    return this.apply({ type: "delete", key, ...extra });
  }

  txn(compare: TxnCompare[], success: TxnOp[], failure: TxnOp[] = []): WriteOutcome {
    return this.apply({ type: "txn", compare, success, failure });
  }

  value(key: string, atRevision?: number): string | null {
    const r = this.store.get(atRevision === undefined ? { key } : { key, atRevision });
    return r.type === "found" ? text(r.value) : null;
  }
}

function withoutContentType<T extends { contentType?: string }>(x: T): Omit<T, "contentType"> {
  const { contentType: _c, ...rest } = x;
  return rest;
}

export function expectType<T extends { type: string }, K extends T["type"]>(
  x: T,
  type: K,
): Extract<T, { type: K }> {
  if (x.type !== type) throw new Error(`expected ${type}, got ${JSON.stringify(x, replacer)}`);
  return x as Extract<T, { type: K }>;
}

export function replacer(_k: string, v: unknown): unknown {
  return v instanceof Uint8Array ? `<${v.length} bytes>` : v;
}
