// Bringing namespaces to their fixtures (the `ns export` format) through the HTTP API in process,
// so a fixture is checked as any client's write is (key grammar, flagd schema): one the API
// refuses fails the store's start with the API's own detail. One txn per namespace (more when
// a fixture exceeds a txn's limits), and none for a namespace already equal to its fixture.
import { bundleEntryToBody, bytesToBase64, sameValue } from "../client/index.ts";
import app from "../index.ts";
import type { Env } from "../env.ts";
import { storeLimits } from "../store/index.ts";

/** One namespace as `edgecfg ns export` writes it; `source` names the file it came from. */
export interface Fixture {
  namespace: string;
  entries: Record<string, unknown>;
  meta?: Record<string, { contentType?: string } | undefined>;
  source?: string;
}

type Op =
  | { type: "delete"; key: string }
  | { type: "put"; key: string; valueBase64: string; contentType: string };

// Half a txn's 1 MiB of values: base64 in the body stays well inside its 2 MiB too.
const txnValueBytes = storeLimits.valueBytesMax / 2;

/** Sends one API request acting with the admin token, as the binding's own fetch does. */
function api(env: Env, ctx: ExecutionContext, path: string, body?: unknown) {
  const headers = new Headers({ Authorization: `Bearer ${env.ADMIN_TOKEN ?? ""}` });
  if (body !== undefined) headers.set("Content-Type", "application/json");
  const init =
    body === undefined ? { headers } : { method: "POST", headers, body: JSON.stringify(body) };
  return app.fetch(new Request(`http://edgecfg${path}`, init), env, ctx);
}

async function refused(res: Response, fixture: Fixture): Promise<Error> {
  const problem = (await res.json().catch(() => ({}))) as { detail?: string; errors?: unknown };
  const errors = problem.errors === undefined ? "" : ` ${JSON.stringify(problem.errors)}`;
  const from = fixture.source === undefined ? "" : ` (${fixture.source})`;
  return new Error(
    `edgecfg could not seed namespace ${fixture.namespace}${from}: ${res.status} ` +
      `${problem.detail ?? res.statusText}${errors}`,
  );
}

/** The changes that make what the namespace holds equal to the fixture. */
function opsFor(fixture: Fixture, held: Fixture): Op[] {
  const key = (name: string) => `${fixture.namespace}/${name}`;
  const ops: Op[] = Object.keys(held.entries)
    .filter((name) => !(name in fixture.entries))
    .map((name) => ({ type: "delete", key: key(name) }));
  for (const [name, value] of Object.entries(fixture.entries)) {
    const want = bundleEntryToBody(value, fixture.meta?.[name]?.contentType);
    if (name in held.entries) {
      const have = bundleEntryToBody(held.entries[name], held.meta?.[name]?.contentType);
      if (
        sameValue(
          { bytes: have.body, contentType: have.contentType },
          { ...want, bytes: want.body },
        )
      )
        continue;
    }
    ops.push({
      type: "put",
      key: key(name),
      valueBase64: bytesToBase64(want.body),
      contentType: want.contentType,
    });
  }
  return ops;
}

/** Ops in txns within the store's limits (ops per txn, value bytes per txn). */
function batches(ops: Op[]): Op[][] {
  const out: Op[][] = [];
  let batch: Op[] = [];
  let bytes = 0;
  for (const op of ops) {
    const size = op.type === "put" ? (op.valueBase64.length * 3) / 4 : 0;
    if (
      batch.length === storeLimits.txnOpsMax ||
      (batch.length > 0 && bytes + size > txnValueBytes)
    ) {
      out.push(batch);
      [batch, bytes] = [[], 0];
    }
    batch.push(op);
    bytes += size;
  }
  if (batch.length > 0) out.push(batch);
  return out;
}

/** Makes the namespace hold exactly the fixture's entries (none for an empty fixture). */
export async function restore(env: Env, ctx: ExecutionContext, fixture: Fixture): Promise<void> {
  const res = await api(env, ctx, `/v1/ns/${encodeURIComponent(fixture.namespace)}`);
  if (!res.ok) throw await refused(res, fixture);
  const held = (await res.json()) as Fixture;
  for (const success of batches(opsFor(fixture, held))) {
    const txn = await api(env, ctx, "/v1/txn", { success });
    if (!txn.ok) throw await refused(txn, fixture);
  }
}
