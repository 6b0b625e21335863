import * as z from "zod";
import { route, type RouteDef } from "../api.ts";
import { notFound } from "../../kernel/errors.ts";
import { d1Reachable } from "../../ucs/health.ts";
import { shardDb, shardList } from "../../tenancy/shards.ts";
import { d1Counts, d1Trail, resetD1Counts } from "../../kernel/d1-count.ts";
import { openApiDocument } from "../openapi.ts";

export function systemRoutes(all: () => RouteDef[]): RouteDef[] {
  return [
    route({
      method: "get", path: "/api/health", access: "public", tags: ["system"], summary: "Liveness and D1 reachability: the control database and every shard",
      responses: { 200: { description: "Healthy", schema: z.object({ ok: z.boolean(), d1: z.boolean(), control: z.boolean(), shards: z.record(z.string(), z.boolean()), time: z.string() }) } },
      handler: async ({ env }) => {
        const list = shardList(env);
        const [control, ...each] = await Promise.all([d1Reachable(env.CONTROL), ...list.map((s) => d1Reachable(shardDb(env, s.binding)))]);
        const shards = Object.fromEntries(list.map((s, i) => [s.binding, each[i]!]));
        return { ok: true, d1: control! && each.every(Boolean), control: control!, shards, time: new Date().toISOString() };
      },
    }),
    route({
      method: "get", path: "/api/bench/ping", access: "public", tags: ["system"],
      summary: "Benchmark baseline: one empty Durable Object RPC. Only when the BENCH var is '1'.",
      handler: async ({ env, req }) => {
        if ((env as { BENCH?: string }).BENCH !== "1") throw notFound("not_found", "no such endpoint");
        const o = new URL(req.url).searchParams.get("o") ?? "0";
        return { pong: await env.AGENT.getByName(`bench/ping-${o.slice(0, 16)}`).ping() };
      },
    }),
    route({
      method: "get", path: "/api/bench/d1", access: "public", tags: ["system"],
      summary: "Benchmark: the D1 round trips counted since the last reset, per place, and the trips themselves (?reset=1 resets after reading). Only when the BENCH var is '1'.",
      handler: async ({ env, req }) => {
        if ((env as { BENCH?: string }).BENCH !== "1") throw notFound("not_found", "no such endpoint");
        const out = { counts: d1Counts(), trail: d1Trail() };
        if (new URL(req.url).searchParams.get("reset") === "1") resetD1Counts();
        return out;
      },
    }),
    route({
      method: "get", path: "/api/openapi.json", access: "public", tags: ["system"], summary: "This API's OpenAPI 3.1 document",
      handler: async ({ env, req }) => openApiDocument(all(), env.PUBLIC_URL || new URL(req.url).origin),
    }),
  ];
}
