// Global options shared by every command, and the client they configure.
import type { Command } from "commander";
import { createClient, type EdgecfgClient } from "../client/index.ts";
import { UsageError } from "./exit.ts";
import type { Io } from "./io.ts";

export const defaultUrl = "http://127.0.0.1:8787";

export interface GlobalOptions {
  url: string;
  token: string | undefined;
  json: boolean;
  timeoutMs: number;
  /** Why: sent with every write as X-Edgecfg-Reason. */
  reason: string | undefined;
}

/** As the server allows (storeLimits.auditReasonBytesMax); the CLI never imports the server. */
const reasonBytesMax = 256;

export function globalOptions(cmd: Command, io: Io): GlobalOptions {
  const o = cmd.optsWithGlobals<{
    url?: string;
    token?: string;
    json?: boolean;
    timeout?: string;
    reason?: string;
  }>();
  const timeoutMs = o.timeout === undefined ? 30_000 : Number(o.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0)
    throw new UsageError(`--timeout must be a whole number of milliseconds, got "${o.timeout}"`);
  return {
    url: o.url ?? io.env.EDGECFG_URL ?? defaultUrl,
    token: o.token ?? io.env.EDGECFG_TOKEN,
    json: o.json === true,
    timeoutMs,
    reason: reasonOption(o.reason ?? io.env.EDGECFG_REASON),
  };
}

function reasonOption(reason: string | undefined): string | undefined {
  if (reason === undefined || reason.trim() === "") return undefined;
  const bytes = new TextEncoder().encode(reason).length;
  if (bytes > reasonBytesMax || /[\x00-\x1f\x7f]/.test(reason)) {
    throw new UsageError(
      `--reason must be one line of at most ${reasonBytesMax} bytes (got ${bytes}): ` +
        "say why in a line and link to the rest",
    );
  }
  return reason;
}

export function clientFor(options: GlobalOptions, io: Io): EdgecfgClient {
  return createClient({
    url: options.url,
    ...(options.token ? { token: options.token } : {}),
    ...(io.fetch ? { fetch: io.fetch } : {}),
    timeoutMs: options.timeoutMs,
    ...(options.reason === undefined ? {} : { reason: options.reason }),
  });
}

/** A KEY argument: namespace/name, else a usage error (exit 2) before any request. */
/** The namespace of "ns/name" ("" for ""): the CLI's keys are checked by keyArg first. */
export function namespaceOf(key: string): string {
  const slash = key.indexOf("/");
  return slash < 0 ? key : key.slice(0, slash);
}

export function keyArg(value: string): string {
  const segments = value.split("/");
  if (segments.length < 2 || segments.some((s) => s === "" || s === "." || s === "..")) {
    throw new UsageError(
      "KEY must be namespace/name (e.g. myapp/flags), with no empty, . or .. segments; " +
        `got "${value}"`,
    );
  }
  return value;
}

/** A PREFIX argument: "myapp" means the whole namespace, as "myapp/" does. */
export function prefixArg(value: string): string {
  if (value === "")
    throw new UsageError("PREFIX must name a namespace, e.g. myapp or myapp/feature-");
  return value.includes("/") ? value : `${value}/`;
}

/** A non-negative integer argument, or a usage error naming the option. */
export function intArg(value: string, name: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n))
    throw new UsageError(`${name} must be a whole number, got "${value}"`);
  return n;
}
