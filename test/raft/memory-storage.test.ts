import { describe, expect, it } from "vitest";
import { MemoryStorage } from "../../src/raft/memory-storage.ts";
import type { Entry } from "../../src/raft/types.ts";
import { describeLogStorageContract } from "./storage-contract.ts";

describeLogStorageContract("MemoryStorage", () => new MemoryStorage());

describe("MemoryStorage after a compaction", () => {
  const entry = (index: number, term: number): Entry => ({
    index,
    term,
    type: "normal",
    data: new TextEncoder().encode(`e${index}`),
  });
  const snap = (index: number, term: number) => ({
    metadata: { index, term, conf: { voters: ["1"], learners: [] } },
    data: new Uint8Array(),
  });

  it("an append of entries the snapshot already holds rewrites nothing, and keeps what follows", () => {
    const s = new MemoryStorage();
    s.append([entry(1, 1), entry(2, 1), entry(3, 1), entry(4, 2)]);
    s.compact(snap(3, 1));
    s.append([entry(2, 1), entry(3, 1)]); // a late Ready's entries, compacted meanwhile
    expect([s.firstIndex(), s.lastIndex(), s.term(4)]).toEqual([4, 4, 2]);
    s.append([entry(3, 1), entry(4, 3), entry(5, 3)]);
    expect([s.lastIndex(), s.term(3), s.term(4), s.term(5)]).toEqual([5, 1, 3, 3]);
  });
});
