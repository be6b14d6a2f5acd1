// `ns import NS FILE`: writes each entry of a bundle-shaped document. Idempotent: a key that
// already holds the same bytes and content type is skipped, so re-running an import writes
// nothing. CAS-safe: each write is conditional on the ETag just read (or create-only), so a key
// changed by someone else meanwhile is reported as a conflict (exit 3), never overwritten.
import {
  ConflictError,
  NotFoundError,
  type Bundle,
  type EdgecfgClient,
} from "../../client/index.ts";
import { bundleEntryToBody, sameValue } from "../../client/index.ts";
import type { CommandContext } from "../command.ts";
import { UsageError } from "../exit.ts";
import { println, printJson, text } from "../io.ts";
import { intArg } from "../options.ts";
import { progressFor } from "../progress.ts";

type Outcome = "created" | "updated" | "unchanged" | "conflict";

export async function importBundle(
  ctx: CommandContext,
  namespace: string,
  file: string,
  o: { concurrency: string },
): Promise<void> {
  const bundle = parseBundle(
    text(file === "-" ? await ctx.io.readStdin() : await ctx.io.readFile(file)),
    file,
  );
  const names = Object.keys(bundle.entries);
  const concurrency = Math.max(1, intArg(o.concurrency, "--concurrency"));
  const progress = progressFor(ctx.io, ctx.global.json);
  progress.start(names.length, "keys");
  const counts: Record<Outcome, number> = { created: 0, updated: 0, unchanged: 0, conflict: 0 };
  const conflicts: string[] = [];
  let done = 0;
  await eachLimited(names, concurrency, async (name) => {
    const outcome = await importOne(
      ctx.client,
      `${namespace}/${name}`,
      bundle.entries[name],
      bundle.meta?.[name]?.contentType,
    );
    counts[outcome] += 1;
    if (outcome === "conflict") conflicts.push(`${namespace}/${name}`);
    progress.update(++done);
  }).finally(() => progress.stop());
  report(ctx, namespace, counts, conflicts);
}

function report(
  ctx: CommandContext,
  namespace: string,
  counts: Record<Outcome, number>,
  conflicts: string[],
): void {
  if (ctx.global.json) printJson(ctx.io.stdout, { namespace, ...counts, conflicts });
  else
    println(
      ctx.io.stdout,
      `imported into ${namespace}: ${counts.created} created, ${counts.updated} updated, ${counts.unchanged} unchanged, ${counts.conflict} conflicts`,
    );
  if (conflicts.length > 0) {
    throw new ConflictError(412, {
      detail: `changed by someone else during the import: ${conflicts.sort().join(", ")}; run the import again to retry them`,
    });
  }
}

async function importOne(
  client: EdgecfgClient,
  key: string,
  entry: unknown,
  declaredType: string | undefined,
): Promise<Outcome> {
  const { body, contentType } = bundleEntryToBody(entry, declaredType);
  const current = await client.get(key, { allowStale: false }).catch((e: unknown) => {
    if (e instanceof NotFoundError) return undefined;
    throw e;
  });
  if (current && sameValue(current, { bytes: body, contentType })) return "unchanged";
  try {
    await client.put(key, body, {
      contentType,
      ...(current ? { ifMatch: current.etag } : { createOnly: true }),
    });
    return current ? "updated" : "created";
  } catch (error) {
    if (error instanceof ConflictError) return "conflict";
    throw error;
  }
}

function parseBundle(source: string, file: string): Bundle {
  let doc: unknown;
  try {
    doc = JSON.parse(source);
  } catch (error) {
    throw new UsageError(
      `${file} is not JSON (${(error as Error).message}); expected a bundle from \`edgecfg ns export\``,
    );
  }
  const entries = (doc as { entries?: unknown } | null)?.entries;
  if (entries === null || typeof entries !== "object" || Array.isArray(entries)) {
    throw new UsageError(
      `${file} has no "entries" object; expected {"namespace", "revision", "entries": {name: value}}`,
    );
  }
  return doc as Bundle;
}

/** Runs `fn` over items with at most `limit` in flight; the first failure stops new work. */
async function eachLimited<T>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      await fn(items[next++]!).catch((error: unknown) => {
        failed = true;
        throw error;
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
