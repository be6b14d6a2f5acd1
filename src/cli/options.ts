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
}

export function globalOptions(cmd: Command, io: Io): GlobalOptions {
  const o = cmd.optsWithGlobals<{
    url?: string;
    token?: string;
    json?: boolean;
    timeout?: string;
  }>();
  const timeoutMs = o.timeout === undefined ? 30_000 : Number(o.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0)
    throw new UsageError(`--timeout must be a whole number of milliseconds, got "${o.timeout}"`);
  return {
    url: o.url ?? io.env.EDGECFG_URL ?? defaultUrl,
    token: o.token ?? io.env.EDGECFG_TOKEN,
    json: o.json === true,
    timeoutMs,
  };
}

export function clientFor(options: GlobalOptions, io: Io): EdgecfgClient {
  return createClient({
    url: options.url,
    ...(options.token ? { token: options.token } : {}),
    ...(io.fetch ? { fetch: io.fetch } : {}),
    timeoutMs: options.timeoutMs,
  });
}

/** A KEY argument: namespace/name, else a usage error (exit 2) before any request. */
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
