// Read-your-writes: every response carries `X-Edgecfg-Revision` (an opaque token naming a shard
// and a revision). Sending the newest token we hold for a namespace as `X-Edgecfg-Min-Revision`
// makes any replica answer from a state at least that new.
//
// Tokens are opaque, but responses can arrive out of order (concurrent calls), and keeping an
// older token after a newer one would weaken the guarantee. So when two tokens share everything
// but a trailing number (the usual "shard:revision" shape), the larger number wins; otherwise
// the most recent one does.

const trailingNumber = /^(.*?)(\d+)$/;

/** True when `candidate` should replace `current`. */
export function isNewerToken(current: string | undefined, candidate: string): boolean {
  if (current === undefined) return true;
  const a = trailingNumber.exec(current);
  const b = trailingNumber.exec(candidate);
  if (a && b && a[1] === b[1]) return BigInt(b[2]!) > BigInt(a[2]!);
  return true;
}

export class ConsistencyTokens {
  readonly #byNamespace = new Map<string, string>();

  /** Remembers the token of a response about `namespace`. */
  observe(namespace: string, token: string | null): void {
    if (!token) return;
    if (isNewerToken(this.#byNamespace.get(namespace), token))
      this.#byNamespace.set(namespace, token);
  }

  get(namespace: string): string | undefined {
    return this.#byNamespace.get(namespace);
  }
}
