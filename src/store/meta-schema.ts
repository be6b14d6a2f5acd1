// The JSON Schema 2020-12 meta-schema (json-schema.org/draft/2020-12/schema and its seven
// vocabulary meta-schemas), folded into one document that @cfworker/json-schema can run: it has
// no $dynamicRef, so each "$dynamicRef": "#meta" of the original is a plain "$ref": "#" here
// (the same schema, since nothing extends it). The package ships no meta-schemas of its own, and
// a schema setting must be refused when it is not JSON Schema (a typo such as "propertes" is
// allowed by the meta-schema, as by the spec: unknown keywords are annotations).

const schemaArray = { type: "array", minItems: 1, items: { $ref: "#" } };
const nonNegativeInteger = { type: "integer", minimum: 0 };
const stringArray = { type: "array", items: { type: "string" }, uniqueItems: true, default: [] };
const schemaMap = { type: "object", additionalProperties: { $ref: "#" } };
const simpleTypes = {
  enum: ["array", "boolean", "integer", "null", "number", "object", "string"],
};

const core = {
  $id: { type: "string", pattern: "^[^#]*#?$" },
  $schema: { type: "string" },
  $ref: { type: "string" },
  $anchor: { type: "string", pattern: "^[A-Za-z_][-A-Za-z0-9._]*$" },
  $dynamicRef: { type: "string" },
  $dynamicAnchor: { type: "string", pattern: "^[A-Za-z_][-A-Za-z0-9._]*$" },
  $vocabulary: { type: "object", additionalProperties: { type: "boolean" } },
  $comment: { type: "string" },
  $defs: schemaMap,
};

const applicator = {
  prefixItems: schemaArray,
  items: { $ref: "#" },
  contains: { $ref: "#" },
  additionalProperties: { $ref: "#" },
  properties: schemaMap,
  patternProperties: { ...schemaMap, propertyNames: { format: "regex" } },
  dependentSchemas: schemaMap,
  propertyNames: { $ref: "#" },
  if: { $ref: "#" },
  then: { $ref: "#" },
  else: { $ref: "#" },
  allOf: schemaArray,
  anyOf: schemaArray,
  oneOf: schemaArray,
  not: { $ref: "#" },
  unevaluatedItems: { $ref: "#" },
  unevaluatedProperties: { $ref: "#" },
};

const validation = {
  type: {
    anyOf: [simpleTypes, { type: "array", items: simpleTypes, minItems: 1, uniqueItems: true }],
  },
  enum: { type: "array" },
  multipleOf: { type: "number", exclusiveMinimum: 0 },
  maximum: { type: "number" },
  exclusiveMaximum: { type: "number" },
  minimum: { type: "number" },
  exclusiveMinimum: { type: "number" },
  maxLength: nonNegativeInteger,
  minLength: nonNegativeInteger,
  pattern: { type: "string", format: "regex" },
  maxItems: nonNegativeInteger,
  minItems: nonNegativeInteger,
  uniqueItems: { type: "boolean" },
  maxContains: nonNegativeInteger,
  minContains: nonNegativeInteger,
  maxProperties: nonNegativeInteger,
  minProperties: nonNegativeInteger,
  required: stringArray,
  dependentRequired: { type: "object", additionalProperties: stringArray },
};

const annotations = {
  title: { type: "string" },
  description: { type: "string" },
  deprecated: { type: "boolean" },
  readOnly: { type: "boolean" },
  writeOnly: { type: "boolean" },
  examples: { type: "array" },
  format: { type: "string" },
  contentEncoding: { type: "string" },
  contentMediaType: { type: "string" },
  contentSchema: { $ref: "#" },
};

// Keywords the 2020-12 meta-schema still describes for schemas written for older drafts.
const deprecated = {
  definitions: schemaMap,
  dependencies: {
    type: "object",
    additionalProperties: { anyOf: [{ $ref: "#" }, stringArray] },
  },
  $recursiveAnchor: { type: "boolean" },
  $recursiveRef: { type: "string" },
};

export const metaSchema2020 = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  $id: "https://edgecfg.dev/meta/2020-12/schema",
  type: ["object", "boolean"],
  properties: { ...core, ...applicator, ...validation, ...annotations, ...deprecated },
};
