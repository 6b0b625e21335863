// A token bucket per chat participant: a burst of `max` messages, refilled at `max` per `perSeconds`.
// Customers are held to it so one of them cannot fill a chat (or its agent's screen) in seconds;
// staff are not (the chat's caps keep room for them). Pure: the object keeps the buckets in memory,
// so an evicted object starts everyone with a full bucket, which is only ever more lenient.

export interface Rate {
  max: number;
  perSeconds: number;
}

export interface Bucket {
  tokens: number;
  at: number;
}

export type Take = { ok: true; bucket: Bucket } | { ok: false; bucket: Bucket; retryAfterSeconds: number };

export function take(b: Bucket | undefined, rate: Rate, now: number): Take {
  const perMs = rate.max / (rate.perSeconds * 1000);
  const tokens = b ? Math.min(rate.max, b.tokens + Math.max(0, now - b.at) * perMs) : rate.max;
  if (tokens >= 1) return { ok: true, bucket: { tokens: tokens - 1, at: now } };
  return { ok: false, bucket: { tokens, at: now }, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / perMs / 1000)) };
}
