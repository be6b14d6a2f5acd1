// Where a watch stands in the change stream, so that a resumed stream delivers every change
// exactly once. A transaction commits several keys at one revision, so a revision alone does not
// identify a change: (modRevision, key) does. Events arrive ordered by revision, then key.
import type { DeleteEvent, ListItem, PutEvent } from "./types.ts";

type Change = PutEvent | DeleteEvent;

export class WatchPosition {
  /** Every change at or below this revision has been delivered. */
  #doneThrough: number | undefined;
  /** The revision being delivered and the keys of it seen so far (its events may be split). */
  #partial: { revision: number; keys: Set<string> } | undefined;
  /** After a resync: the state it delivered, to drop older events replayed around it. */
  #snapshot: { modRevisions: Map<string, number>; through: number } | undefined;

  /** `fromRevision` is the first revision wanted (inclusive); undefined means "from now". */
  constructor(fromRevision?: number) {
    if (fromRevision !== undefined) this.#doneThrough = fromRevision - 1;
  }

  /** The `fromRevision` to resume with (inclusive), or undefined when none is known yet. */
  get resumeFrom(): number | undefined {
    if (this.#partial) return this.#partial.revision;
    return this.#doneThrough === undefined ? undefined : this.#doneThrough + 1;
  }

  /** True when the position sits between revisions (no revision half delivered). */
  get atBoundary(): boolean {
    return this.#partial === undefined;
  }

  /** Records the change and says whether it is new (deliver) or a replay (drop). */
  accept(change: Change): boolean {
    const rev = change.modRevision;
    if (this.#doneThrough !== undefined && rev <= this.#doneThrough) return false;
    if (this.#partial && rev === this.#partial.revision) {
      if (this.#partial.keys.has(change.key)) return false;
      this.#partial.keys.add(change.key);
    } else {
      // Revisions only grow within a stream: a new one means the previous one is complete.
      if (this.#partial) this.#doneThrough = this.#partial.revision;
      this.#partial = { revision: rev, keys: new Set([change.key]) };
    }
    return !this.#coveredBySnapshot(change);
  }

  /** A progress event: the stream has delivered everything up to `revision`. */
  progress(revision: number): void {
    if (this.#doneThrough === undefined || revision > this.#doneThrough)
      this.#doneThrough = revision;
    if (this.#partial && this.#partial.revision <= revision) this.#partial = undefined;
  }

  /**
   * The prefix was re-read after compaction. `fromRevision` is the revision of its first page and
   * `throughRevision` of its last (pages may be read at different revisions): the stream resumes
   * after the first, and changes the snapshot already reflects are dropped.
   */
  resync(items: ListItem[], fromRevision: number, throughRevision: number): void {
    this.#doneThrough = fromRevision;
    this.#partial = undefined;
    this.#snapshot = {
      modRevisions: new Map(items.map((i) => [i.key, i.modRevision])),
      through: throughRevision,
    };
  }

  #coveredBySnapshot(change: Change): boolean {
    const snapshot = this.#snapshot;
    if (!snapshot) return false;
    if (change.modRevision > snapshot.through) {
      this.#snapshot = undefined;
      return false;
    }
    const seen = snapshot.modRevisions.get(change.key);
    const covered =
      change.type === "delete"
        ? seen === undefined || seen > change.modRevision
        : seen !== undefined && seen >= change.modRevision;
    // A delivered change is now part of what the consumer holds; a later event is judged on it.
    if (!covered && change.type === "delete") snapshot.modRevisions.delete(change.key);
    else if (!covered) snapshot.modRevisions.set(change.key, change.modRevision);
    return covered;
  }
}
