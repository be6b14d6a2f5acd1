// The solo shard's durability: a command log and a chunked snapshot in the Durable Object's
// SQLite. Every write command is appended in one synchronous statement before it is applied and
// acknowledged (the output gate holds the reply until it is durable). Every
// `snapshotEveryCommands` commands (or `snapshotEveryLogBytes`) the store is snapshotted and the
// log before it deleted, in one transaction. A start restores the snapshot and replays the log.
import { Store } from "../store/index.ts";

export const soloLimits = {
  snapshotEveryCommands: 1000,
  snapshotEveryLogBytes: 16 * 1024 * 1024,
  /** SQLite rows of a Durable Object hold at most 2 MB; snapshots are cut into chunks of this. */
  snapshotChunkBytes: 1024 * 1024,
} as const;

export class DurableLog {
  private logBytesSinceSnapshot = 0;
  private commandsSinceSnapshot = 0;

  private readonly storage: DurableObjectStorage;

  constructor(storage: DurableObjectStorage) {
    this.storage = storage;
    storage.sql.exec(
      `CREATE TABLE IF NOT EXISTS log (idx INTEGER PRIMARY KEY, command BLOB NOT NULL)`,
    );
    storage.sql.exec(
      `CREATE TABLE IF NOT EXISTS snapshot_chunk (seq INTEGER PRIMARY KEY, idx INTEGER NOT NULL, data BLOB NOT NULL)`,
    );
  }

  /** The store as of the last acknowledged command. */
  load(): Store {
    const chunks = this.storage.sql
      .exec<{ data: ArrayBuffer }>(`SELECT data FROM snapshot_chunk ORDER BY seq`)
      .toArray();
    const store =
      chunks.length === 0
        ? new Store()
        : Store.restore(concat(chunks.map((c) => new Uint8Array(c.data))));
    const rows = this.storage.sql.exec<{ idx: number; command: ArrayBuffer }>(
      `SELECT idx, command FROM log WHERE idx > ? ORDER BY idx`,
      store.appliedIndex,
    );
    for (const row of rows) {
      const bytes = new Uint8Array(row.command);
      store.apply(row.idx, bytes);
      this.logBytesSinceSnapshot += bytes.byteLength;
      this.commandsSinceSnapshot += 1;
    }
    return store;
  }

  append(index: number, command: Uint8Array): void {
    this.storage.sql.exec(`INSERT INTO log (idx, command) VALUES (?, ?)`, index, toBuffer(command));
    this.logBytesSinceSnapshot += command.byteLength;
    this.commandsSinceSnapshot += 1;
  }

  /** Takes back an appended command that could not be applied (it was never acknowledged). */
  remove(index: number): void {
    this.storage.sql.exec(`DELETE FROM log WHERE idx = ?`, index);
  }

  snapshotDue(): boolean {
    return (
      this.commandsSinceSnapshot >= soloLimits.snapshotEveryCommands ||
      this.logBytesSinceSnapshot >= soloLimits.snapshotEveryLogBytes
    );
  }

  saveSnapshot(store: Store): void {
    const bytes = store.snapshot();
    const index = store.appliedIndex;
    this.storage.transactionSync(() => {
      this.storage.sql.exec(`DELETE FROM snapshot_chunk`);
      for (
        let seq = 0, off = 0;
        off < bytes.byteLength || seq === 0;
        seq++, off += soloLimits.snapshotChunkBytes
      ) {
        this.storage.sql.exec(
          `INSERT INTO snapshot_chunk (seq, idx, data) VALUES (?, ?, ?)`,
          seq,
          index,
          toBuffer(bytes.subarray(off, off + soloLimits.snapshotChunkBytes)),
        );
      }
      this.storage.sql.exec(`DELETE FROM log WHERE idx <= ?`, index);
    });
    this.logBytesSinceSnapshot = 0;
    this.commandsSinceSnapshot = 0;
  }
}

/** SQLite binds ArrayBuffers as BLOBs. */
function toBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.slice().buffer;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.byteLength;
  }
  return out;
}
