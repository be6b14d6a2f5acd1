// How a plan (a dry run's diff) is shown: one line per key (+ create, ~ update, - delete) and,
// for a JSON value that changes, its structural diff by jsondiffpatch. Coloured on a terminal,
// plain when piped (ANSI codes stripped), or the dry run's JSON document with --json.
import { create } from "jsondiffpatch";
import { format } from "jsondiffpatch/formatters/console";
import type { DiffEntry, DryRun } from "../client/index.ts";
import type { OutStream } from "./io.ts";
import { println } from "./io.ts";

const differ = create({ objectHash: (o: object) => JSON.stringify(o) });

const colours = { create: "\u001b[32m", update: "\u001b[33m", delete: "\u001b[31m" } as const;
const marks = { create: "+", update: "~", delete: "-" } as const;
const reset = "\u001b[0m";
const ansi = /\u001b\[[0-9;]*m/g;

function isEncoded(v: unknown): boolean {
  return typeof v === "object" && v !== null && "base64" in v && "contentType" in v;
}

/** The lines showing how one key's value changes. */
function valueLines(d: DiffEntry): string {
  if (d.change === "create") return indent(JSON.stringify(d.after, null, 2));
  if (d.change === "delete") return "";
  if (isEncoded(d.before) || isEncoded(d.after)) return "    (the value's bytes change)";
  const delta = differ.diff(d.before, d.after);
  return delta === undefined ? "" : indent((format(delta, d.before) ?? "").trimEnd());
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => `    ${line}`)
    .join("\n");
}

export function countsOf(diff: DiffEntry[]): string {
  const n = (c: DiffEntry["change"]) => diff.filter((d) => d.change === c).length;
  return `${n("create")} to create, ${n("update")} to update, ${n("delete")} to delete`;
}

export function printPlan(out: OutStream, namespace: string, plan: DryRun<unknown>): void {
  const tty = out.isTTY === true;
  println(out, `${namespace} at revision ${plan.baseRevision}: ${countsOf(plan.diff)}`);
  for (const d of plan.diff) {
    const head = `${marks[d.change]} ${d.key}`;
    println(out, tty ? colours[d.change] + head + reset : head);
    const body = valueLines(d);
    if (body !== "") println(out, tty ? body : body.replace(ansi, ""));
  }
}
