// `ns import NS FILE`: writes each entry of a bundle-shaped document. Idempotent: a key that
// already holds the same bytes and content type is skipped, so re-running an import writes
// nothing. CAS-safe: each write is conditional on the ETag just read (or create-only), so a key
// changed by someone else meanwhile is reported as a conflict (exit 3), never overwritten. A value
// the namespace's schemas refuse (422 schema-violation) is not written either: the other keys
// are, and the refused ones are listed with where and why (exit 1), to fix and import again.
import {
  ConflictError,
  EdgecfgError,
  NotFoundError,
  ValidationError,
  type Bundle,
  type EdgecfgClient,
} from "../../client/index.ts";
import { bundleEntryToBody, sameValue } from "../../client/index.ts";
import type { CommandContext } from "../command.ts";
import { UsageError } from "../exit.ts";
import { println, printJson, text } from "../io.ts";
import { intArg } from "../options.ts";
import { progressFor } from "../progress.ts";

type Outcome = "created" | "updated" | "unchanged" | "conflict" | "refused";
type SchemaError = { key: string; pointer: string; message: string };

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
  const counts: Record<Outcome, number> = {
    created: 0,
    updated: 0,
    unchanged: 0,
    conflict: 0,
    refused: 0,
  };
  const conflicts: string[] = [];
  const refused: SchemaError[] = [];
  let done = 0;
  await eachLimited(names, concurrency, async (name) => {
    const outcome = await importOne(
      ctx.client,
      `${namespace}/${name}`,
      bundle.entries[name],
      bundle.meta?.[name]?.contentType,
    ).catch((error: unknown) => {
      const errors = schemaErrors(error);
      if (errors === null) throw error;
      refused.push(...errors);
      return "refused" as const;
    });
    counts[outcome] += 1;
    if (outcome === "conflict") conflicts.push(`${namespace}/${name}`);
    progress.update(++done);
  }).finally(() => progress.stop());
  report(ctx, namespace, counts, conflicts);
  if (refused.length > 0) throw refusedError(refused);
}

/** The errors of a 422 schema-violation, or null for any other failure. */
function schemaErrors(error: unknown): SchemaError[] | null {
  if (!(error instanceof EdgecfgError) || !error.type.endsWith("/schema-violation")) return null;
  const errors = error.problem.errors;
  return Array.isArray(errors) ? (errors as SchemaError[]) : [];
}

function refusedError(errors: SchemaError[]): ValidationError {
  const lines = errors
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((e) => `  ${e.key} at ${JSON.stringify(e.pointer)}: ${e.message}`);
  return new ValidationError(422, {
    type: "https://edgecfg.dev/problems/schema-violation",
    detail:
      "the namespace's schemas refused these values (nothing written for them):\n" +
      `${lines.join("\n")}\n` +
      "fix them in the file and run the import again (`edgecfg ns types NS` shows the schemas)",
    errors,
  });
}

function report(
  ctx: CommandContext,
  namespace: string,
  counts: Record<Outcome, number>,
  conflicts: string[],
): void {
  if (ctx.global.json) printJson(ctx.io.stdout, { namespace, ...counts, conflicts });
  else if (counts.refused > 0)
    println(
      ctx.io.stdout,
      `imported into ${namespace}: ${counts.created} created, ${counts.updated} updated, ` +
        `${counts.unchanged} unchanged, ${counts.conflict} conflicts, ` +
        `${counts.refused} refused by its schemas`,
    );
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
