// OFREP 0.3.0's request and response bodies, for the OpenAPI document (the routes read their
// bodies themselves so that a bad one gets OFREP's 400, not problem+json).
import { z } from "@hono/zod-openapi";

const metadata = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));

export const OfrepSuccess = z
  .object({
    key: z.string(),
    reason: z.string().openapi({ example: "TARGETING_MATCH" }),
    variant: z.string().optional(),
    value: z.unknown().optional().openapi({ description: "Absent: use the code default" }),
    metadata: metadata.optional(),
  })
  .openapi("OfrepEvaluationSuccess");

export const OfrepFailure = z
  .object({
    key: z.string().optional(),
    errorCode: z.string().openapi({ example: "FLAG_NOT_FOUND" }),
    errorDetails: z.string().optional(),
    metadata: metadata.optional(),
  })
  .openapi("OfrepEvaluationFailure");

export const OfrepBulk = z
  .object({
    flags: z.array(z.union([OfrepSuccess, OfrepFailure])),
    metadata: metadata.optional(),
    eventStreams: z
      .array(
        z.object({
          type: z.literal("sse"),
          endpoint: z.object({ requestUri: z.string() }),
          inactivityDelaySec: z.number().int(),
        }),
      )
      .optional()
      .openapi({ description: "The change stream (GET …/ofrep/v1/events), its ticket included" }),
  })
  .openapi("OfrepBulkEvaluationSuccess");

export const OfrepGeneralError = z
  .object({ errorDetails: z.string() })
  .openapi("OfrepGeneralError");

export const ofrepQuery = z.object({
  consistency: z.enum(["linearizable", "stale"]).optional(),
  flagConfigEtag: z.string().optional().openapi({
    description: "The ETag a change notification carried: never answered from an older revision",
  }),
  flagConfigLastModified: z.string().optional(),
});

export const ofrepErrorResponses = {
  401: { description: "Unauthorized (problem+json)" },
  403: { description: "Forbidden (problem+json)" },
  500: {
    description: "Unexpected error",
    content: { "application/json": { schema: OfrepGeneralError } },
  },
  503: { description: "Unavailable (problem+json)" },
};
