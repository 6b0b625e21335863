// The shell: a launcher and a dialog inside a shadow root, and which view the dialog shows
// (pre-chat form, the chat, the offline message form, or why chat is unavailable).
import { ApiError, call, uuid } from "./api.ts";
import { ChatView, type ChatHost } from "./chat.ts";
import { h, icon } from "./dom.ts";
import { fieldForm } from "./forms.ts";
import { merge, type Strings } from "./strings.ts";
import * as store from "./storage.ts";
import { CSS } from "./styles.ts";
import type { ChatConfig, SessionAnswer, Stored } from "./types.ts";

export interface Options {
  base: string;
  tenant: string;
  lang?: string;
  color?: string;
}

/** Pre-chat fields the session request takes at the top level; any other goes in `fields`. */
const KNOWN = ["name", "email", "phone", "subject"];

export class Widget implements ChatHost {
  s: Strings = merge(undefined);
  cfg: ChatConfig | undefined;
  readonly base: string;
  private readonly tenant: string;
  private readonly launcher: HTMLButtonElement;
  private readonly badge: HTMLElement;
  private readonly panel: HTMLElement;
  private readonly heading: HTMLElement;
  private readonly endBtn: HTMLButtonElement;
  private readonly closeBtn: HTMLButtonElement;
  private readonly view: HTMLElement;
  private chat: ChatView | undefined;
  private open = false;
  private unreadCount = 0;
  private sessionKey: string | undefined;
  private formKey: string | undefined;

  private readonly o: Options;

  constructor(o: Options) {
    this.o = o;
    this.base = o.base;
    this.tenant = o.tenant;
    const s = this.s;
    // A custom element with every inherited property reset: page styles cannot reach the shadow tree.
    const host = document.createElement("parley-chat");
    host.style.cssText = "all:initial!important;display:block!important;position:static!important";
    const root = host.attachShadow({ mode: "open" });
    this.badge = h("span", { class: "bg", hidden: true, "aria-hidden": "true" });
    this.launcher = h("button", { type: "button", class: "l", "aria-expanded": "false", "aria-controls": "pc-panel", "aria-haspopup": "dialog", onclick: () => this.toggle() }, icon("chat"), this.badge);
    this.heading = h("h2", { text: s.title });
    this.endBtn = h("button", { type: "button", class: "e", hidden: true, text: s.endChat, onclick: () => void this.chat?.end() });
    this.closeBtn = h("button", { type: "button", class: "x", onclick: () => this.close() }, icon("close"));
    this.view = h("div", { class: "bd" });
    this.panel = h("div", { class: "p", id: "pc-panel", role: "dialog", hidden: true }, h("div", { class: "hd" }, this.heading, this.endBtn, this.closeBtn), this.view);
    const wrap = h("div", { class: "r" }, this.panel, this.launcher);
    if (o.color && /^#[0-9a-f]{3,8}$/i.test(o.color)) wrap.style.setProperty("--a", o.color);
    wrap.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && this.open) {
        e.stopPropagation();
        this.close();
      }
    });
    root.append(h("style", { text: CSS }), wrap);
    this.labels();
    document.body.append(host);
    void this.load();
  }

  // ---- ChatHost ----

  isOpen(): boolean {
    return this.open && document.visibilityState === "visible";
  }

  unread(): void {
    if (this.open) return;
    this.unreadCount++;
    this.badge.textContent = String(this.unreadCount);
    this.badge.hidden = false;
    this.labels();
  }

  chatEnded(): void {
    this.endBtn.hidden = true;
  }

  restart(notice?: string): void {
    this.chat?.destroy();
    this.chat = undefined;
    this.endBtn.hidden = true;
    void this.load(notice);
  }

  // ---- the panel ----

  private labels(): void {
    const s = this.s;
    const open = this.open ? s.minimize : s.open;
    this.launcher.setAttribute("aria-label", this.unreadCount && !this.open ? `${open} (${this.unreadCount})` : open);
    this.launcher.title = open;
    this.launcher.replaceChild(icon(this.open ? "close" : "chat"), this.launcher.firstChild!);
    this.panel.setAttribute("aria-label", s.title);
    this.closeBtn.setAttribute("aria-label", s.minimize);
    this.closeBtn.title = s.minimize;
    this.endBtn.textContent = s.endChat;
  }

  private toggle(): void {
    if (this.open) this.close();
    else this.show();
  }

  private show(focus = true): void {
    this.open = true;
    this.panel.hidden = false;
    this.launcher.setAttribute("aria-expanded", "true");
    this.unreadCount = 0;
    this.badge.hidden = true;
    this.labels();
    if (focus) this.focusView();
    this.remember();
    this.chat?.opened();
  }

  private close(): void {
    this.open = false;
    this.panel.hidden = true;
    this.launcher.setAttribute("aria-expanded", "false");
    this.labels();
    this.launcher.focus();
    this.remember();
  }

  private remember(): void {
    if (this.chat) {
      this.chat.st.open = this.open;
      this.chat.save();
    }
  }

  private focusView(): void {
    if (!this.open) return;
    if (this.chat) return this.chat.focus();
    (this.view.querySelector<HTMLElement>("input,textarea,button") ?? this.closeBtn).focus();
  }

  private setView(el: HTMLElement, title = this.s.title): void {
    // Focus follows the view only when it was in the widget already.
    const active = (this.view.getRootNode() as ShadowRoot).activeElement;
    this.heading.textContent = title;
    this.view.replaceChildren(el);
    if (active && !this.launcher.contains(active)) this.focusView();
  }

  private message(text: string, cls = "", action?: HTMLElement): HTMLElement {
    return h("div", { class: "fm" }, h("p", { class: cls, role: cls ? "status" : undefined, text }), action);
  }

  // ---- views ----

  private async load(notice?: string): Promise<void> {
    const stored = this.chat ? null : store.load(this.tenant);
    this.setView(this.message(this.s.loading));
    try {
      const q = this.o.lang ? `?lang=${encodeURIComponent(this.o.lang)}` : "";
      this.cfg = await call<ChatConfig>(`${this.base}/api/v1/chat/${encodeURIComponent(this.tenant)}/config${q}`);
      this.s = merge(this.cfg.strings);
      this.labels();
    } catch {
      // A chat in progress goes on with the built-in strings; otherwise offer a retry.
      if (!stored) {
        this.setView(this.message(this.s.loadFailed, "er", h("button", { type: "button", class: "b2", text: this.s.retry, onclick: () => void this.load() })));
        return;
      }
    }
    if (stored) {
      this.startChat(stored);
      // Reopened as it was, without taking the focus from the page.
      if (stored.open && !this.open) this.show(false);
      return;
    }
    const cfg = this.cfg!;
    if (cfg.available) this.preChat(cfg, notice);
    else if (cfg.offline) this.offline(cfg, cfg.offline);
    else this.setView(this.message(cfg.reason === "closed" ? this.s.closed : this.s.unavailable));
  }

  private preChat(cfg: ChatConfig, notice?: string): void {
    const s = this.s;
    const form = fieldForm(s, notice ?? s.preChatIntro, cfg.preChat?.fields ?? [], s.startChat, async (values) => {
      const body: Record<string, unknown> = { clientId: (this.sessionKey ??= uuid()) };
      const extra: Record<string, string> = {};
      for (const [k, v] of Object.entries(values)) if (KNOWN.includes(k)) body[k] = v;
      else extra[k] = v;
      if (Object.keys(extra).length) body.fields = extra;
      let r: SessionAnswer;
      try {
        r = await call<SessionAnswer>(`${this.base}/api/v1/chat/${encodeURIComponent(this.tenant)}/sessions`, { json: body });
      } catch (e) {
        // Nobody can answer after all (the last agent just left): the offline form instead.
        if (e instanceof ApiError && e.code === "chat_unavailable") return void this.load();
        throw e;
      }
      this.sessionKey = undefined;
      const st: Stored = { tenant: this.tenant, chatId: r.chatId, token: r.token, expiresAt: r.expiresAt, me: r.participant?.id, lastSeq: 0, open: this.open, email: values.email, pending: [], messages: [] };
      store.save(st);
      this.startChat(st);
    });
    this.setView(form);
  }

  private startChat(st: Stored): void {
    this.chat = new ChatView(this, st);
    this.endBtn.hidden = !!st.ended;
    this.setView(this.chat.el);
  }

  private offline(cfg: ChatConfig, off: { form: string; fields?: { name: string; label: string; type: string }[] }): void {
    const s = this.s;
    const form = fieldForm(s, cfg.reason === "closed" ? s.closedIntro : s.offlineIntro, off.fields ?? [], s.offlineSend, async (values) => {
      await call(`${this.base}/api/v1/forms/${encodeURIComponent(this.tenant)}.${encodeURIComponent(off.form)}`, {
        json: values,
        headers: { "Idempotency-Key": (this.formKey ??= uuid()) },
      });
      this.formKey = undefined;
      this.setView(this.message(s.thanks, "ok"), s.offlineTitle);
    });
    this.setView(form, s.offlineTitle);
  }
}
