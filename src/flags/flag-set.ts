// The flags of one namespace revision, ready to evaluate: flagd definitions parsed once (by
// flagd-core's FeatureFlag, interpreted), static values as they are. Built once per revision
// and then shared by every evaluation of it, so a bulk answer is one revision by construction.
import { FeatureFlag, type Flag } from "@openfeature/flagd-core";
import { isFlagDefinition } from "./definition.ts";
import { evaluatorsName, evaluatorsOf, withEvaluators, type Evaluators } from "./evaluators.ts";
import type {
  Evaluation,
  EvaluationContext,
  EvaluationErrorCode,
  FlagMetadata,
} from "./evaluation.ts";
import { flagdOptions, silentLogger } from "./logger.ts";

/** A stored value that may be a flag: its name, its ETag, and its value (parsed JSON or text). */
export interface FlagSource {
  name: string;
  etag: string;
  value: unknown;
}

export type FlagSummary =
  | { key: string; kind: "static"; variant: string }
  | { key: string; kind: "invalid"; details: string }
  | { key: string; kind: "flagd"; state: string; variants: string[]; defaultVariant?: string };

type Compiled =
  | { type: "static"; etag: string; value: unknown }
  | { type: "flagd"; flag: FeatureFlag }
  | { type: "broken"; details: string };

function compile(source: FlagSource, evaluators: Evaluators): Compiled {
  if (!isFlagDefinition(source.value))
    return { type: "static", etag: source.etag, value: source.value };
  const definition = withEvaluators(source.value, evaluators);
  try {
    return {
      type: "flagd",
      flag: new FeatureFlag(source.name, definition as Flag, silentLogger, flagdOptions),
    };
  } catch (error) {
    // Written before validation existed, or by a path that does not validate: this flag fails,
    // the others of the namespace still evaluate.
    const why = error instanceof Error ? error.message : String(error);
    return {
      type: "broken",
      details: `flag '${source.name}' is not a valid flagd definition: ${why}`,
    };
  }
}

function withMetadata<T extends object>(answer: T, metadata: FlagMetadata): T {
  return Object.keys(metadata).length === 0 ? answer : { ...answer, metadata };
}

const knownCodes = new Set<string>(["PARSE_ERROR", "TARGETING_KEY_MISSING", "INVALID_CONTEXT"]);

function evaluateFlagd(key: string, flag: FeatureFlag, context: EvaluationContext): Evaluation {
  const metadata = flag.metadata as FlagMetadata;
  if (flag.state === "DISABLED") return withMetadata({ key, reason: "DISABLED" }, metadata);
  const r = flag.evaluate(context as never, silentLogger);
  if (r.reason === "ERROR") {
    const code = (
      knownCodes.has(String(r.errorCode)) ? r.errorCode : "GENERAL"
    ) as EvaluationErrorCode;
    const details = r.errorMessage ?? `flag '${key}' could not be evaluated`;
    return withMetadata({ key, errorCode: code, errorDetails: details }, metadata);
  }
  const answer = {
    key,
    reason: r.reason,
    ...(r.variant === undefined ? {} : { variant: r.variant }),
    ...(r.value === undefined ? {} : { value: r.value }),
  };
  return withMetadata(answer, metadata);
}

export class FlagSet {
  private readonly flags = new Map<string, Compiled>();

  constructor(sources: Iterable<FlagSource>) {
    const all = [...sources];
    const evaluators = evaluatorsOf(all.find((s) => s.name === evaluatorsName)?.value);
    for (const source of all)
      if (source.name !== evaluatorsName) this.flags.set(source.name, compile(source, evaluators));
  }

  get size(): number {
    return this.flags.size;
  }

  has(key: string): boolean {
    return this.flags.has(key);
  }

  /** One flag; FLAG_NOT_FOUND when the namespace has no such flag. */
  evaluate(key: string, context: EvaluationContext): Evaluation {
    const compiled = this.flags.get(key);
    if (compiled === undefined)
      return { key, errorCode: "FLAG_NOT_FOUND", errorDetails: `flag '${key}' was not found` };
    if (compiled.type === "broken")
      return { key, errorCode: "PARSE_ERROR", errorDetails: compiled.details };
    if (compiled.type === "flagd") return evaluateFlagd(key, compiled.flag, context);
    // A static value is its own variant, named by its ETag; JSON null defers to the code default.
    if (compiled.value === null) return { key, reason: "STATIC", variant: compiled.etag };
    return { key, reason: "STATIC", variant: compiled.etag, value: compiled.value };
  }

  /** What each flag is, in name order: for listings (`edgecfg flags list`). */
  describe(): FlagSummary[] {
    return [...this.flags].map(([key, c]) => {
      if (c.type === "static") return { key, kind: "static", variant: c.etag };
      if (c.type === "broken") return { key, kind: "invalid", details: c.details };
      const f = c.flag;
      const variants = [...f.variants.keys()];
      const base = { key, kind: "flagd" as const, state: f.state, variants };
      return f.defaultVariant === undefined ? base : { ...base, defaultVariant: f.defaultVariant };
    });
  }

  /** Every flag, in name order (the namespace's order). */
  evaluateAll(context: EvaluationContext): Evaluation[] {
    return [...this.flags.keys()].map((key) => this.evaluate(key, context));
  }
}
