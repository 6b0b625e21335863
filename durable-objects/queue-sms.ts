// A queue's workflow sendSms steps (split from queue-core.ts, which keeps the routing).
import type { TenantEnv } from "../workers/tenancy/tenant-env.ts";
import { getConfig } from "../workers/config/store.ts";
import { AppError } from "../workers/kernel/errors.ts";
import { queueSms } from "../workers/sms/outbound.ts";
import type { QueueItem } from "./types.ts";

/** To the customer of an SMS interaction, from the number it came to. Each text has a fixed id
 *  (interaction, queue, step), so a resubmission does not text twice. */
export async function stepSms(env: TenantEnv, tenant: string, queue: string, item: QueueItem, texts: string[]): Promise<void> {
  const center = item.attributes.center;
  const customer = item.attributes.customer;
  if ((item.media !== "sms" && item.media !== "mms" && item.media !== "chat") || typeof center !== "string" || typeof customer !== "string") return;
  try {
    const cfg = await getConfig(env.DB, tenant);
    const number = cfg.raw.numbers.find((n) => n.number === center);
    if (!number) return;
    for (const [i, text] of texts.entries())
      await queueSms(env, cfg, { interactionId: item.id, center: number, to: customer, body: text, author: "workflow", smsId: `step:${item.id}:${queue}:${i}` }).catch((e: unknown) => {
        // An opted-out customer simply gets nothing.
        if (!(e instanceof AppError)) throw e;
      });
  } catch (err) {
    console.error(`queue ${queue}: SMS step for ${item.id}`, err);
  }
}
