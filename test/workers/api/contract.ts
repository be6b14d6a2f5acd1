// The contract check of the API tests: every response a test gets through `call()` is checked
// against the OpenAPI document the Worker serves (GET /v1/openapi.json). The operation must be
// documented (else the answer must be the 404/405 for undocumented ones), the status listed for
// it, the Content-Type one it declares, a JSON body valid by its schema (JSON Schema 2020-12,
// @cfworker/json-schema: no code generation, so it runs in workerd), and every edgecfg header
// the response carries declared for that status. A mismatch throws, failing the test that made
// the request, so every API test is also a test of the document.
import { Validator, type Schema } from "@cfworker/json-schema";
import { SELF } from "cloudflare:test";

type Json = Record<string, unknown>;
type Operation = { responses: Record<string, ResponseObject> };
type ResponseObject = {
  content?: Record<string, { schema?: Schema }>;
  headers?: Record<string, unknown>;
};

interface Template {
  regex: RegExp;
  literal: number;
  item: Record<string, Operation>;
  path: string;
}

/** Response headers a route must declare when it sends them (CORS and framing ones are generic). */
const checkedHeaders = [
  "etag",
  "last-modified",
  "location",
  "retry-after",
  "www-authenticate",
  "idempotent-replayed",
  "cache-control",
];

let loaded: Promise<{ doc: Json; templates: Template[] }> | undefined;

async function load(base: string) {
  const res = await SELF.fetch(`${base}/v1/openapi.json`);
  const text = await res.text();
  // Component refs become $defs refs of one root schema (every schema validated is built on it).
  const doc = JSON.parse(text.replaceAll('"#/components/schemas/', '"#/$defs/')) as Json;
  const templates = Object.entries(doc.paths as Record<string, Record<string, Operation>>).map(
    ([path, item]) => {
      const pattern = path
        .split(/(\{\w+\})/)
        .map((part) =>
          part === "{name}"
            ? "(.+)"
            : /^\{\w+\}$/.test(part)
              ? "([^/]+)"
              : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
        )
        .join("");
      return {
        regex: new RegExp(`^${pattern}$`),
        literal: path.replaceAll(/\{\w+\}/g, "").length,
        item,
        path,
      };
    },
  );
  templates.sort((a, b) => b.literal - a.literal);
  return { doc, templates };
}

function mediaTypeOf(res: Response): string | null {
  const type = res.headers.get("Content-Type");
  return type === null ? null : type.split(";")[0]!.trim().toLowerCase();
}

function declaredMediaType(content: Record<string, unknown>, type: string): string | undefined {
  if (type in content) return type;
  // A structured-syntax suffix (RFC 6839): application/x+json is JSON, as the API treats it.
  if (type.endsWith("+json") && "application/json" in content) return "application/json";
  const wildcard = `${type.split("/")[0]}/*`;
  if (wildcard in content) return wildcard;
  return "*/*" in content ? "*/*" : undefined;
}

function schemaErrors(doc: Json, schema: Schema, value: unknown): string | null {
  const root = { ...schema, $defs: (doc.components as Json).schemas } as Schema;
  const result = new Validator(root, "2020-12", false).validate(value);
  if (result.valid) return null;
  return result.errors
    .slice(0, 4)
    .map((e) => `${e.instanceLocation}: ${e.error}`)
    .join("; ");
}

async function checkBody(
  doc: Json,
  declared: ResponseObject,
  method: string,
  res: Response,
): Promise<string | null> {
  const type = mediaTypeOf(res);
  const bodiless = method === "HEAD" || res.status === 204 || res.status === 304;
  if (bodiless || type === null) return null;
  if (!declared.content) return `sends ${type}, but the document declares no body`;
  const key = declaredMediaType(declared.content, type);
  if (key === undefined)
    return `sends ${type}, not one of ${Object.keys(declared.content).join(", ")}`;
  const schema = declared.content[key]!.schema;
  if (schema === undefined || !(type === "application/json" || type.endsWith("+json"))) return null;
  const text = await res.text();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return `sends ${type} that does not parse: ${text.slice(0, 80)}`;
  }
  const errors = schemaErrors(doc, schema, value);
  return errors === null ? null : `body ${text.slice(0, 200)} violates the schema: ${errors}`;
}

function checkHeaders(declared: ResponseObject, res: Response): string | null {
  const names = Object.keys(declared.headers ?? {}).map((n) => n.toLowerCase());
  for (const [name] of res.headers) {
    const checked = name.startsWith("x-edgecfg-") || checkedHeaders.includes(name);
    if (checked && !names.includes(name)) return `sends header ${name}, which is not declared`;
  }
  return null;
}

/** Throws when `res` (the answer to `method url`) is not what the document says. */
export async function checkContract(base: string, method: string, url: string, res: Response) {
  loaded ??= load(base);
  const { doc, templates } = await loaded;
  // %2F separates segments like "/" (src/api/keys.ts): /v1/kv/app%2Fa is /v1/kv/app/a.
  // Hono routes /v1/tokens/ as /v1/tokens (a trailing slash is ignored), so the checker does too.
  const path = new URL(url).pathname.replaceAll(/%2f/gi, "/").replace(/(.)\/$/, "$1");
  const docMethod = (method === "HEAD" ? "GET" : method).toLowerCase();
  const template = templates.find((t) => t.regex.test(path) && docMethod in t.item);
  const where = `${method} ${path.slice(0, 80)} → ${res.status}`;
  if (template === undefined) {
    // Paths the document has no operation for (/v1/nothing, /v1/kv/app without a name) may only
    // be refused, as problem+json; preflights are answered (cors.ts).
    if (method === "OPTIONS" && res.status === 204) return;
    if (res.status >= 400 && res.status < 500 && mediaTypeOf(res) === "application/problem+json")
      return;
    throw new Error(`contract: ${where}: no operation of the document answers this`);
  }
  const operation = template.item[docMethod]!;
  const declared = operation.responses[String(res.status)] ?? operation.responses.default;
  if (declared === undefined) {
    throw new Error(
      `contract: ${where}: ${docMethod.toUpperCase()} ${template.path} does not list ${res.status}`,
    );
  }
  const problem = checkHeaders(declared, res) ?? (await checkBody(doc, declared, method, res));
  if (problem !== null) throw new Error(`contract: ${where}: ${problem}`);
}
