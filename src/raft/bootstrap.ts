// Creating a brand-new group.
import { assert } from "./assert.ts";
import type { LogStorage } from "./storage.ts";
import type { ConfState } from "./types.ts";

/** Index (and term) of the snapshot `bootstrap` writes; the first elected term is 2. */
export const bootstrapIndex = 1;

/**
 * Creates a brand-new group's initial state in empty `storage`: a snapshot at index 1, term 1,
 * holding `conf` and empty application data, and the matching hard state (commit 1). Call it
 * on every initial member with the same `conf`, then construct a RawNode over the storage.
 *
 * A member added later starts with empty storage and no bootstrap: it learns the membership
 * from the leader's snapshot (it needs entries before the leader's first index, 2). That is
 * why the initial membership lives in a snapshot at index 1 rather than at index 0, and why the
 * application must accept empty snapshot data as "the initial state".
 */
export function bootstrap(storage: LogStorage, conf: ConfState): void {
  assert(
    storage.lastIndex() === 0 && storage.initialState().hardState.term === 0,
    "bootstrap: storage is not empty",
  );
  assert(conf.voters.length > 0, "bootstrap: a group needs at least one voter");
  const overlap = conf.voters.filter((id) => conf.learners.includes(id));
  assert(overlap.length === 0, `bootstrap: ${overlap.join(", ")} cannot be both voter and learner`);
  storage.applySnapshot({
    metadata: { index: bootstrapIndex, term: 1, conf },
    data: new Uint8Array(),
  });
  storage.setHardState({ term: 1, vote: "", commit: bootstrapIndex });
}
