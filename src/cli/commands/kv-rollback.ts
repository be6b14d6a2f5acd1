// `kv rollback KEY --to VERSION`: restores an old value as a new revision. History is never
// rewritten; the write is a compare-and-set on the current ETag, so a concurrent change makes
// the rollback fail (exit 3) instead of being silently overwritten.
import { NotFoundError } from "../../client/index.ts";
import type { CommandContext } from "../command.ts";
import { println, printJson } from "../io.ts";
import { intArg } from "../options.ts";

export async function rollback(ctx: CommandContext, key: string, o: { to: string }): Promise<void> {
  const version = intArg(o.to, "--to");
  const target = (await ctx.client.history(key)).find((h) => h.version === version && !h.deleted);
  if (!target) {
    throw new NotFoundError(404, {
      detail: `${key} has no retained version ${version}; see \`edgecfg kv history ${key}\``,
    });
  }
  // Read both before writing: the old value by its revision, the current ETag for the CAS.
  const old = await ctx.client.get(key, { revision: target.modRevision });
  // The ETag is opaque: take it from a read of the current value, never build it.
  const current = await ctx.client.get(key, { allowStale: false }).catch((e: unknown) => {
    if (e instanceof NotFoundError) return undefined;
    throw e;
  });
  const precondition = current ? { ifMatch: current.etag } : { createOnly: true };
  const result = await ctx.client.put(key, old.bytes, {
    contentType: old.contentType,
    ...precondition,
  });
  if (ctx.global.json) {
    return printJson(ctx.io.stdout, {
      key,
      restoredVersion: version,
      fromRevision: target.modRevision,
      etag: result.etag,
      entry: result.entry,
    });
  }
  println(
    ctx.io.stdout,
    `rolled back ${key} to version ${version} (r${target.modRevision}): now version ${result.entry.version}, ETag ${result.etag}`,
  );
}
