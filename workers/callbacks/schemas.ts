// What the callback endpoints take and answer (zod: validation and OpenAPI alike).
import * as z from "zod";

export const DAY_MS = 86_400_000;
const Tenant = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "a tenant id");
const Instant = z.iso.datetime({ offset: true }).describe("ISO 8601 with a zone, like 2030-05-01T14:00:00Z");
const Token = z.string().min(1).max(200);

export const RequestBody = z
  .object({
    tenant: Tenant,
    phone: z.string().min(1).max(40).describe("Any format with the country code; stored in E.164"),
    name: z.string().trim().max(200).optional(),
    topic: z.string().trim().max(200).optional(),
    windowStart: Instant,
    windowEnd: Instant,
    idempotencyKey: z.string().min(1).max(200).regex(/^[\x20-\x7e]+$/, "printable ASCII").optional().describe("A retry with the same key answers the first request, with the same token"),
  })
  .strict();
export const TokenQuery = z.object({ tenant: Tenant, token: Token });
export const CancelBody = z.object({ tenant: Tenant, token: Token }).strict();
const OUTCOMES = ["reached", "no_answer", "busy", "wrong_number"] as const;
export const OutcomeBody = z.object({ outcome: z.enum(OUTCOMES), note: z.string().trim().min(1).max(10_000).optional(), rescheduleAt: Instant.optional() }).strict();
export const Created = z.object({ interactionId: z.string(), token: z.string(), state: z.string(), scheduledFor: z.string(), duplicate: z.boolean() });

