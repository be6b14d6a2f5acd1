// The "4 KiB JSON PUT under a 20-property schema" cell (issue 22): a config value of 20 typed
// properties (strings with bounds and a pattern, numbers, booleans, an enum, a list), 4 KiB as
// JSON, and the schema that describes it, set on its own namespace by the seed. The same PUT to a
// namespace without schemas is the baseline: the ratio of server CPU per write is the schema's
// cost (parse + validate once, by the leader as it proposes: src/store/schemas.ts vouch).

/**
 * Namespaces of the two cells: one with the schema under "" (every name), one without. Both are
 * on shard 0 of the default ring (SHARDS = 4; test/ring checks it), so the two cells write to the
 * same Raft group with the same history: the ratio then compares the schema alone, not also two
 * groups of different sizes (as "bench-schema" on shard 0 and "bench-plain" on 3 did).
 */
export const schemaNamespace = "bench-typed";
export const plainNamespace = "bench-untyped";

const text = { type: "string", maxLength: 1024 };

export const schema20 = {
  type: "object",
  additionalProperties: false,
  required: ["service", "enabled", "rollout", "region", "at"],
  properties: {
    service: { type: "string", pattern: "^[a-z][a-z0-9-]*$", maxLength: 64 },
    enabled: { type: "boolean" },
    rollout: { type: "number", minimum: 0, maximum: 1 },
    region: { enum: ["eu", "us", "ap"] },
    at: { type: "integer", minimum: 0 },
    timeoutMs: { type: "integer", minimum: 1, maximum: 60_000 },
    retries: { type: "integer", minimum: 0, maximum: 10 },
    owner: { type: "string", format: "email" },
    tags: { type: "array", items: { type: "string", maxLength: 32 }, maxItems: 32 },
    description: text,
    banner: text,
    footer: text,
    notes: text,
    cacheTtlSeconds: { type: "integer", minimum: 0 },
    sampleRate: { type: "number", exclusiveMinimum: 0, maximum: 1 },
    logLevel: { enum: ["debug", "info", "warn", "error"] },
    darkMode: { type: "boolean" },
    maxUploadBytes: { type: "integer", minimum: 0 },
    supportUrl: { type: "string", maxLength: 256 },
    version: { type: "string", pattern: "^[0-9]+\\.[0-9]+\\.[0-9]+$" },
  },
};

const filler = (n: number) => "lorem ipsum dolor sit amet ".repeat(Math.ceil(n / 27)).slice(0, n);

/** A value of the schema, 4 KiB as JSON; `at` differs per write. */
export function value4k(): string {
  return JSON.stringify({
    service: "checkout-api",
    enabled: true,
    rollout: 0.25,
    region: "eu",
    at: Date.now(),
    timeoutMs: 2500,
    retries: 3,
    owner: "team-checkout@example.com",
    tags: Array.from({ length: 16 }, (_, i) => `tag-${i}`),
    description: filler(900),
    banner: filler(900),
    footer: filler(900),
    notes: filler(876),
    cacheTtlSeconds: 300,
    sampleRate: 0.1,
    logLevel: "info",
    darkMode: false,
    maxUploadBytes: 10_485_760,
    supportUrl: "https://support.example.com/checkout",
    version: "2.14.3",
  });
}
