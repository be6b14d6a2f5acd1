// `edgecfg token …`: scoped tokens for apps and scripts (needs an admin token).
import { Command } from "commander";
import type { TokenOperation } from "../../client/index.ts";
import { action, type CommandContext } from "../command.ts";
import { UsageError } from "../exit.ts";
import type { Io } from "../io.ts";
import { println, printJson } from "../io.ts";

export function tokenCommand(io: Io): Command {
  const token = new Command("token").description("create|list|revoke: scoped tokens (admin)");
  token
    .command("create")
    .description("mint a token; it is printed once and cannot be shown again")
    .requiredOption("--ns <globs>", 'namespaces by name or glob, comma-separated (e.g. "app-*")')
    .requiredOption("--scope <ops>", "comma-separated: read, write, admin")
    .option("--expires <duration>", "lifetime, e.g. 30d, 12h, 90m (default: never)")
    .option("--name <name>", "who holds it, shown as the actor of its writes (`edgecfg audit`)")
    .action(action(io, create));
  token
    .command("list")
    .description("list tokens (ids and scopes; never the secrets)")
    .action(action(io, list));
  token
    .command("revoke")
    .argument("<id>")
    .description("revoke a token at once")
    .action(action(io, revoke));
  return token;
}

const operations = new Set<TokenOperation>(["read", "write", "admin"]);
const secondsPerUnit: Record<string, number> = {
  s: 1,
  m: 60,
  h: 3600,
  d: 86_400,
  w: 604_800,
  y: 31_536_000,
};

/** "30d" → seconds. */
export function parseDurationSeconds(value: string): number {
  const m = /^(\d+)\s*([smhdwy])$/.exec(value.trim());
  if (!m)
    throw new UsageError(`--expires "${value}" is not a duration; use e.g. 30d, 12h, 90m, 1y`);
  return Number(m[1]) * secondsPerUnit[m[2]!]!;
}

export function parseScopes(value: string): TokenOperation[] {
  const ops = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = ops.filter((op) => !operations.has(op as TokenOperation));
  if (ops.length === 0 || bad.length > 0)
    throw new UsageError(`--scope takes read, write and/or admin, comma-separated; got "${value}"`);
  return ops as TokenOperation[];
}

type CreateOpts = { ns: string; scope: string; expires?: string; name?: string };

async function create(ctx: CommandContext, o: CreateOpts): Promise<void> {
  const namespaces = o.ns
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (namespaces.length === 0)
    throw new UsageError(`--ns needs at least one namespace or glob, e.g. 'app-*'`);
  const created = await ctx.client.tokens.create({
    scopes: [{ namespaces, ops: parseScopes(o.scope) }],
    ...(o.expires ? { expiresInSeconds: parseDurationSeconds(o.expires) } : {}),
    ...(o.name === undefined ? {} : { name: o.name }),
  });
  if (ctx.global.json) return printJson(ctx.io.stdout, created);
  println(ctx.io.stdout, created.token);
  ctx.io.stderr.write(
    `token ${created.id} created${created.expiresAt ? `, expires ${created.expiresAt}` : ""}. ` +
      "It is shown only this once: store it now (e.g. as EDGECFG_TOKEN).\n",
  );
}

async function list(ctx: CommandContext): Promise<void> {
  const tokens = await ctx.client.tokens.list();
  if (ctx.global.json) return printJson(ctx.io.stdout, tokens);
  for (const t of tokens) {
    const scopes = t.scopes.map((s) => `${s.namespaces.join(",")}:${s.ops.join(",")}`).join(" ");
    println(
      ctx.io.stdout,
      `${t.id}${t.name ? ` (${t.name})` : ""}  ${scopes}  created ${t.createdAt}` +
        (t.expiresAt ? `  ${t.expired ? "EXPIRED" : "expires"} ${t.expiresAt}` : ""),
    );
  }
}

async function revoke(ctx: CommandContext, id: string): Promise<void> {
  await ctx.client.tokens.revoke(id);
  if (ctx.global.json) return printJson(ctx.io.stdout, { id, revoked: true });
  println(ctx.io.stdout, `revoked ${id}`);
}
