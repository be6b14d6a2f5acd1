// The audit records in a snapshot (audit.ts): per namespace (and `_sys`), the records still
// retained, oldest first, with their actors in one table (a deploy's many revisions name one
// actor once). Versions are not changed: a version's record is the one of its modRevision in its
// namespace, so old snapshots (no audit) and old version rows decode as before.
import type { AuditRecord, StoreState } from "./state.ts";
import { systemNamespace } from "./keys.ts";
import type { AuditActor } from "./types.ts";

/** [kind, id, name] */
type ActorRow = [AuditActor["kind"], string | null, string | null];
/** [revision, atMs, op, keys, actor index (-1: none), reason, requestId] */
type AuditRow = [number, number, string, string[], number, string | null, string | null];

export interface AuditBody {
  actors: ActorRow[];
  logs: [string, AuditRow[]][];
}

/**
 * Only what is retained, so equal states give equal bytes whatever their compaction history;
 * undefined when nothing is (the snapshot then has the bytes it had before audit existed).
 */
export function auditBody(state: StoreState): AuditBody | undefined {
  const actors: ActorRow[] = [];
  const actorIndex = new Map<string, number>();
  const indexOf = (a: AuditActor | undefined): number => {
    if (a === undefined) return -1;
    const row: ActorRow = [a.kind, a.id ?? null, a.name ?? null];
    const id = JSON.stringify(row);
    let i = actorIndex.get(id);
    if (i === undefined) actorIndex.set(id, (i = actors.push(row) - 1));
    return i;
  };
  const scopes = [...state.audit.keys()].sort();
  const all = scopes.map((scope): [string, AuditRow[]] => [
    scope,
    state.audit
      .get(scope)!
      .records.filter((r) => r.retained > 0)
      .map((r) => [
        r.revision,
        r.atMs,
        r.op,
        [...r.keys],
        indexOf(r.actor),
        r.reason ?? null,
        r.requestId ?? null,
      ]),
  ]);
  const logs = all.filter(([, rows]) => rows.length > 0);
  return logs.length === 0 ? undefined : { actors, logs };
}

/** Sets state.audit; returns each namespace's records by revision, for its versions to point at. */
export function restoreAudit(
  state: StoreState,
  body: AuditBody | undefined,
): Map<string, Map<number, AuditRecord>> {
  const byScope = new Map<string, Map<number, AuditRecord>>();
  if (body === undefined) return byScope;
  const actors = body.actors.map(
    ([kind, id, name]): AuditActor => ({
      kind,
      ...(id === null ? {} : { id }),
      ...(name === null ? {} : { name }),
    }),
  );
  for (const [scope, rows] of body.logs) {
    const records = rows.map(
      ([revision, atMs, op, keys, actor, reason, requestId]): AuditRecord => ({
        revision,
        atMs,
        op,
        keys,
        actor: actor < 0 ? undefined : actors[actor],
        reason: reason ?? undefined,
        requestId: requestId ?? undefined,
        // Keyed records count the versions that point at them as those are restored.
        retained: scope === systemNamespace ? 1 : 0,
      }),
    );
    state.audit.set(scope, { records, dropped: 0 });
    byScope.set(scope, new Map(records.map((r) => [r.revision, r])));
  }
  return byScope;
}

/** The `audit` field of a restored version written at `modRevision`, counted on its record. */
export function attachAudit(
  records: Map<number, AuditRecord> | undefined,
  modRevision: number,
): { audit?: AuditRecord } {
  const record = records?.get(modRevision);
  if (record === undefined) return {};
  record.retained += 1;
  return { audit: record };
}
