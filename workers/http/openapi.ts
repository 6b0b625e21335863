// OpenAPI 3.1, generated from the same zod schemas that validate requests.
import * as z from "zod";
import type { RouteDef } from "./api.ts";

const ErrorSchema = z.object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) });

const toJson = (s: z.ZodType, io: "input" | "output") => z.toJSONSchema(s, { io, unrepresentable: "any" }) as Record<string, unknown>;

/** `post` + `/api/v1/forms/{formId}` → `postApiV1FormsFormId`. */
const operationId = (method: string, path: string) => `${method}${path.replace(/[{}]/g, "").replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ""))}`;

export function openApiDocument(routes: RouteDef[], serverUrl: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.path.replace(/:(\w+)/g, "{$1}");
    const params = [...r.path.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: "path", required: true, schema: { type: "string" } }));
    if (r.query) {
      const js = toJson(r.query, "input") as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, schema] of Object.entries(js.properties ?? {})) params.push({ name, in: "query", required: js.required?.includes(name) ?? false, schema } as never);
    }
    const security = r.access === "public" ? [] : r.access === "platform" ? [{ operatorToken: [] }] : r.access === "ingest" ? [{ ingestKey: [] }] : r.access === "ingest_or_agent" ? [{ ingestKey: [] }, { agentToken: [] }] : r.access === "read_or_agent" ? [{ readKey: [] }, { agentToken: [] }] : [{ agentToken: [] }];
    const responses: Record<string, unknown> = {};
    for (const [status, res] of Object.entries(r.responses ?? { 200: { description: "OK" } }))
      responses[status] = { description: res.description, ...(res.schema ? { content: { "application/json": { schema: toJson(res.schema, "output") } } } : {}) };
    for (const [status, description] of [["400", "Bad input: malformed JSON, missing or invalid fields"], ["401", "Missing, invalid or expired credentials"], ["403", "Wrong role"], ["404", "Unknown resource (or another tenant's)"], ["409", "The resource is in another state"]] as const)
      if (!(status === "401" || status === "403") || r.access !== "public") responses[status] = { description, content: { "application/json": { schema: toJson(ErrorSchema, "output") } } };
    (paths[path] ??= {})[r.method] = {
      summary: r.summary,
      tags: r.tags,
      operationId: operationId(r.method, path),
      "x-access": r.access,
      security,
      parameters: params.length ? params : undefined,
      requestBody: r.body ? { required: true, content: { "application/json": { schema: toJson(r.body, "input") } } } : undefined,
      responses,
      ...(r.cors ? { "x-cors": "browsers on the allowed origins; errors carry the CORS headers too" } : {}),
      ...(r.upgrade ? { "x-upgrade": "websocket: a plain request is a 426; a refused upgrade sends an error frame and closes with 4000 + the status" } : {}),
    };
    // The router answers a CORS route's preflight itself.
    if (r.cors)
      (paths[path] ??= {}).options ??= {
        summary: "CORS preflight: 204 for an origin on the list, else 403",
        tags: r.tags,
        operationId: operationId("options", path),
        "x-access": "public",
        security: [],
        parameters: params.length ? params : undefined,
        responses: { 204: { description: "Allowed" }, 403: { description: "Origin not allowed", content: { "application/json": { schema: toJson(ErrorSchema, "output") } } } },
      };
  }
  return {
    openapi: "3.1.0",
    info: { title: "Parley API", version: "1", description: "Multichannel contact center: ingest, agents, supervisors, administration." },
    servers: [{ url: serverUrl }],
    components: {
      securitySchemes: {
        agentToken: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "From POST /api/v1/auth/login" },
        ingestKey: { type: "http", scheme: "bearer", description: "The tenant's ingest key: writes (interactions, mail, SMS), never reads" },
        readKey: { type: "http", scheme: "bearer", description: "The tenant's read key: history, messages, attachments and the outbox, never writes" },
        operatorToken: { type: "http", scheme: "bearer", description: "A platform operator's token (POST /api/platform/v1/session) or the PLATFORM_SECRET itself; no tenant credential is accepted" },
      },
    },
    paths,
  };
}
