// What `ns diff` and `ns apply` read: the namespace as it should be, from a FILE (a bundle
// document, as `ns export` writes it) or a DIR (one file per name: `flags.json` -> `flags`,
// `motd/en.txt` -> `motd/en`; the extension gives the content type, JSON files go inline).
import { bodyToBundleEntry } from "../client/index.ts";
import type { ApplyRequest } from "../client/index.ts";
import { UsageError } from "./exit.ts";
import type { Io } from "./io.ts";
import { text } from "./io.ts";
import { inferContentType } from "./value-input.ts";

export async function readDesired(io: Io, path: string): Promise<ApplyRequest> {
  const files = path === "-" ? null : await io.readDir?.(path);
  if (files === undefined || files === null) return fromBundle(path, await readSource(io, path));
  const entries: Record<string, unknown> = {};
  const meta: Record<string, { contentType: string }> = {};
  const from: Record<string, string> = {};
  for (const file of files
    .filter((f) => !f.split("/").some((part) => part.startsWith(".")))
    .sort()) {
    const name = file.replace(/\.[^./]+$/, "");
    if (from[name] !== undefined)
      throw new UsageError(`${from[name]} and ${file} both map to the name ${name}: keep one`);
    from[name] = file;
    const bytes = await io.readFile(`${path.replace(/\/+$/, "")}/${file}`);
    const contentType = inferContentType(bytes, file, undefined);
    try {
      entries[name] = bodyToBundleEntry(bytes, contentType);
    } catch (error) {
      throw new UsageError(`${file} is not valid JSON (${(error as Error).message}): fix it`);
    }
    if (contentType !== "application/json" && /json/.test(contentType))
      meta[name] = { contentType };
  }
  return Object.keys(meta).length > 0 ? { entries, meta } : { entries };
}

async function readSource(io: Io, path: string): Promise<string> {
  return text(path === "-" ? await io.readStdin() : await io.readFile(path));
}

function fromBundle(path: string, source: string): ApplyRequest {
  let doc: { entries?: unknown; meta?: Record<string, { contentType?: unknown }> } | null;
  try {
    doc = JSON.parse(source) as typeof doc;
  } catch (error) {
    throw new UsageError(
      `${path} is not JSON (${(error as Error).message}); give a directory (one file per name) ` +
        "or a bundle file from `edgecfg ns export`",
    );
  }
  const entries = doc?.entries;
  if (entries === null || typeof entries !== "object" || Array.isArray(entries)) {
    throw new UsageError(
      `${path} has no "entries" object; ` +
        'expected {"entries": {name: value}} as `ns export` writes it',
    );
  }
  const meta: Record<string, { contentType: string }> = {};
  for (const [name, m] of Object.entries(doc?.meta ?? {}))
    if (typeof m?.contentType === "string") meta[name] = { contentType: m.contentType };
  return { entries: entries as Record<string, unknown>, meta };
}
