// Proposals the leader made and callers still wait for, keyed by the proposal id carried in the
// entry (payload.ts). Whoever applies the entry hands its outcome to the waiting caller.
import type { ProposeAnswer } from "./rpc.ts";

/** How a proposal a caller waits for ends: applied, or an unknown outcome (rpc.ts). */
export type ProposalEnd = Extract<ProposeAnswer, { type: "applied" | "unknown" }>;

export class Proposals {
  readonly #waiting = new Map<string, (end: ProposalEnd) => void>();
  /** Distinguishes ids of this incarnation of the replica from those of an earlier one. */
  readonly #nonce = crypto.randomUUID().slice(0, 8);
  #counter = 0;

  nextId(): string {
    return `${this.#nonce}.${(this.#counter++).toString(36)}`;
  }

  wait(id: string, timeoutMs: number): Promise<ProposalEnd> {
    return new Promise<ProposalEnd>((resolve) => {
      const timer = setTimeout(
        () => this.end(id, { type: "unknown", reason: `not applied within ${timeoutMs} ms` }),
        timeoutMs,
      );
      this.#waiting.set(id, (end) => {
        clearTimeout(timer);
        resolve(end);
      });
    });
  }

  /** Ends the wait for `id`, if someone waits; false otherwise. */
  end(id: string, end: ProposalEnd): boolean {
    const resolve = this.#waiting.get(id);
    if (!resolve) return false;
    this.#waiting.delete(id);
    resolve(end);
    return true;
  }

  endAll(reason: string): void {
    for (const id of [...this.#waiting.keys()]) this.end(id, { type: "unknown", reason });
  }

  get size(): number {
    return this.#waiting.size;
  }
}
