// The ChatSession's carried side: a chat carried by SMS (session mode) or a social channel. What staff
// say to the customer goes out as SMS or on the channel (carryOut, called by chat-core.ts). On a
// social channel: a customer's message placed by the provider's time (a late one flagged), a message
// patched when its media is stored or its delivery state moves, a message sent from the provider's
// own inbox, templates, and staff's free text refused once the customer's window has closed.
// chat-session.ts extends this.
import { AppError, badRequest, conflict, fail, forbidden } from "../workers/kernel/errors.ts";
import { getConfig } from "../workers/config/store.ts";
import { queueSms } from "../workers/sms/outbound.ts";
import { signPath } from "../workers/chat/signed-url.ts";
import { servesCustomer } from "../workers/chat/visibility.ts";
import type { ChatMessage, MessageExtra } from "../workers/protocol/chat.ts";
import { queueSocial, type SocialTarget } from "../workers/social/outbound.ts";
import type { Delivery, Outbound } from "../workers/social/types.ts";
import { deliveryRank } from "../workers/social/types.ts";
import { freeTextRefusal, windowOf, type Window } from "../workers/social/window.ts";
import type { ChatRole, Visibility } from "../workers/chat/visibility.ts";
import { ChatCore, type ChatState } from "./chat-core.ts";
import type { StoredMessage } from "./chat-store.ts";
import { guard, type Result } from "./result.ts";

export interface SocialPatch {
  file?: { key: string; type: string; size: number };
  media?: MessageExtra["media"] | null;
  delivery?: Delivery;
  error?: string;
}

export abstract class ChatSocial extends ChatCore {
  /** A customer's message from the channel, at the provider's time. Idempotent on clientId. */
  socialInbound(m: { clientId: string; at: number; text: string; file: { key: string; type: string; size: number } | null; extra: MessageExtra }): Promise<Result<{ message: ChatMessage; duplicate: boolean }>> {
    return guard(async () => {
      const meta = this.meta();
      if (!meta.social) return fail(badRequest("not_social", "this chat is not carried by a social channel"));
      const seen = this.store.byClientId("customer", m.clientId);
      if (seen) return { message: await this.view(seen), duplicate: true };
      if (meta.status === "ended") fail(conflict("chat_ended", "this chat has ended"));
      const p = this.store.participant("customer") ?? fail(forbidden("the chat has no customer"));
      this.roomForMore(p);
      const last = meta.social.lastInboundAt;
      // Placed by the provider's time; the agent is told it came after messages written later.
      const late = last !== null && m.at < last;
      const extra: MessageExtra = { ...m.extra, ...(late ? { late: true } : {}) };
      const stored = this.store.insert({ clientId: m.clientId, from: "customer", name: p.name, role: "customer", kind: m.file ? "file" : "text", text: m.text, visibility: "all", at: m.at, file: m.file, extra: Object.keys(extra).length ? extra : null });
      if (!stored) return { message: await this.view(this.store.byClientId("customer", m.clientId)!), duplicate: true };
      const now = this.meta();
      if (now.social && (now.social.lastInboundAt === null || m.at > now.social.lastInboundAt)) {
        now.social = { ...now.social, lastInboundAt: m.at };
        this.store.saveMeta(now);
      }
      return { message: await this.afterPost(p, stored), duplicate: false };
    });
  }

  /** A message changed after it was shown: its media stored (or given up on), its delivery state. Only forward. */
  socialPatch(clientId: string, patch: SocialPatch): Promise<Result<void>> {
    return guard(async () => {
      this.meta();
      const s = this.store.byAnyClientId(clientId);
      if (!s) return;
      const extra: MessageExtra = { ...s.extra };
      if (patch.delivery) {
        if (extra.delivery && deliveryRank[patch.delivery] <= deliveryRank[extra.delivery]) return;
        extra.delivery = patch.delivery;
        if (patch.error) extra.error = patch.error.slice(0, 300);
      }
      if (patch.media === null) delete extra.media;
      else if (patch.media) extra.media = patch.media;
      const changed = this.store.update(s.seq, extra, patch.file, patch.file ? "file" : undefined);
      if (changed) this.broadcast({ type: "update", message: await this.view(changed) }, (t) => t.role !== "customer" || changed.visibility === "all");
    });
  }

  /** The business answered from the provider's own inbox (a Meta echo): shown once, as staff's, and not sent again. */
  socialEcho(m: { clientId: string; at: number; text: string; name: string }): Promise<Result<{ duplicate: boolean }>> {
    return guard(async () => {
      const meta = this.meta();
      if (this.store.byClientId("inbox", m.clientId)) return { duplicate: true };
      if (meta.status === "ended") fail(conflict("chat_ended", "this chat has ended"));
      const stored = this.store.insert({ clientId: m.clientId, from: "inbox", name: m.name, role: "agent", kind: "text", text: m.text, visibility: "all", at: m.at, file: null, extra: { delivery: "sent" } });
      if (stored) this.broadcast({ type: "msg", message: await this.view(stored) });
      return { duplicate: !stored };
    });
  }

  /** A WhatsApp template, the one thing that goes outside the 24-hour window (and inside it too). */
  sendTemplate(by: string, t: { clientId: string; name: string; language: string; params: string[]; preview: string }): Promise<Result<{ message: ChatMessage; duplicate: boolean }>> {
    return guard(async () => {
      const seen = this.store.byClientId(by, t.clientId);
      if (seen) return { message: await this.view(seen), duplicate: true };
      const p = this.speaker(by);
      if (!servesCustomer(p.mode)) fail(forbidden("only the agent serving the customer sends templates"));
      const meta = this.meta();
      if (meta.social?.channel !== "whatsapp") fail(badRequest("no_templates", "templates are sent on WhatsApp only"));
      this.roomForMore(p);
      const stored = this.store.insert({ clientId: t.clientId, from: by, name: p.name, role: p.role, kind: "text", text: t.preview, visibility: "all", at: Date.now(), file: null, extra: { template: t.name, delivery: "sending" } });
      if (!stored) return { message: await this.view(this.store.byClientId(by, t.clientId)!), duplicate: true };
      const view = await this.view(stored);
      this.broadcast({ type: "msg", message: view });
      await this.carry(stored, { kind: "template", name: t.name, language: t.language, params: t.params });
      return { message: view, duplicate: false };
    });
  }

  /** Staff's message to the customer starts 'sending', or is refused when the customer's window has closed. */
  protected override outboundExtra(role: ChatRole, visibility: Visibility): MessageExtra | null {
    const m = this.meta();
    if (!m.social || role === "customer" || visibility !== "all") return null;
    const w = this.socialWindowNow();
    const refusal = w ? freeTextRefusal(m.social.channel, w) : null;
    if (refusal) fail(new AppError(409, "window_closed", refusal));
    return { delivery: "sending" };
  }

  protected override socialState(): ChatState["social"] {
    const s = this.meta().social;
    const w = this.socialWindowNow();
    return s && w ? { channel: s.channel, window: w } : undefined;
  }

  private socialWindowNow(): Window | null {
    const s = this.meta().social;
    return s ? windowOf(s.channel, s.lastInboundAt, Date.now()) : null;
  }

  /** SMS session mode: what staff say to the customer goes out as SMS (what staff say among themselves does not). */
  private async toSms(stored: StoredMessage): Promise<void> {
    const m = this.meta();
    if (!m.sms) return;
    try {
      const cfg = await getConfig((await this.te()).DB, m.tenant);
      const center = cfg.raw.numbers.find((n) => n.number === m.sms!.center);
      if (!center) throw new Error(`number ${m.sms.center} is no longer configured`);
      await queueSms(await this.te(), cfg, { interactionId: m.interactionId, center, to: m.sms.customer, body: stored.text, author: stored.from });
    } catch (err) {
      const why = err instanceof AppError ? err.message : "it could not be queued";
      this.notice(`Not sent by SMS: ${why}`, "staff", Date.now());
      if (!(err instanceof AppError)) console.error(`chat ${m.interactionId}: SMS`, err);
    }
  }

  protected override async carryOut(stored: StoredMessage): Promise<void> {
    const m = this.meta();
    if (m.sms && stored.kind === "text") return this.toSms(stored);
    if (m.social) return this.toSocial(stored);
  }

  private async toSocial(stored: StoredMessage): Promise<void> {
    // A template is carried by sendTemplate; an agent's text or file here.
    if (stored.extra?.template) return;
    const w = this.socialWindowNow();
    if (stored.kind === "file" && stored.file) {
      const m = this.meta();
      const path = `/api/v1/chat/files/${m.tenant}/${m.interactionId}/${stored.file.key.slice(stored.file.key.lastIndexOf("/") + 1)}`;
      // The provider fetches the file from us, within the signed link's life.
      const url = `${new URL(this.env.PUBLIC_URL).origin}${await signPath(this.env.AUTH_SECRET, path, Date.now(), 3600)}`;
      return this.carry(stored, { kind: "media", url, contentType: stored.file.type, name: stored.text });
    }
    return this.carry(stored, { kind: "text", text: stored.text, ...(w?.mode === "human_agent" ? { tag: "HUMAN_AGENT" as const } : {}) });
  }

  /** Queues the send; a failure to queue shows on the message and to staff. */
  private async carry(stored: StoredMessage, outbound: Outbound): Promise<void> {
    const m = this.meta();
    if (!m.social || !stored.clientId) return;
    const target: SocialTarget = { tenant: m.tenant, interactionId: m.interactionId, channel: m.social.channel, account: m.social.account, user: m.social.user };
    try {
      await queueSocial(await this.te(), target, { clientId: stored.clientId, author: stored.from, body: stored.text, outbound });
    } catch (err) {
      const why = err instanceof AppError ? err.message : "it could not be queued";
      await this.socialPatch(stored.clientId, { delivery: "failed", error: why });
      this.notice(`Not sent: ${why}`, "staff", Date.now());
      if (!(err instanceof AppError)) console.error(`chat ${m.interactionId}: social send`, err);
    }
  }
}
