// The conversation: the message log, the composer, queue and typing notices, read receipts,
// attachments, and the end of the chat with its transcript offer.
import { ApiError } from "./api.ts";
import { Connection, type ConnState } from "./connection.ts";
import { h, icon } from "./dom.ts";
import { fill, type Strings } from "./strings.ts";
import * as store from "./storage.ts";
import type { ChatConfig, ChatMessage, FileRef, Frame, Stored } from "./types.ts";

export interface ChatHost {
  readonly s: Strings;
  readonly cfg: ChatConfig | undefined;
  readonly base: string;
  isOpen(): boolean;
  unread(): void;
  chatEnded(): void;
  restart(notice?: string): void;
}

const MAX_TEXT = 8000;

const kb = (n: number) => (n >= 1048576 ? `${(n / 1048576).toFixed(1)} MB` : n >= 1024 ? `${Math.round(n / 1024)} KB` : `${n} B`);

function clock(at: number | string | undefined): string {
  const d = new Date(typeof at === "string" ? Date.parse(at) : (at ?? NaN));
  return isNaN(d.getTime()) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function typeAllowed(type: string, allowed: string[]): boolean {
  return allowed.some((t) => t === "*/*" || (t.endsWith("/*") ? type.startsWith(t.slice(0, -1)) : t === type));
}

export class ChatView {
  readonly el: HTMLElement;
  private readonly log: HTMLElement;
  private readonly bar: HTMLElement;
  private readonly typingEl: HTMLElement;
  private readonly composer: HTMLFormElement;
  private readonly input: HTMLTextAreaElement;
  private readonly endBox: HTMLElement;
  private readonly conn: Connection;
  private readonly mineByClient = new Map<string, HTMLElement>();
  private readonly drafts = new Map<string, ChatMessage>();
  private readonly bySeq = new Map<number, HTMLElement>();
  private typingOn = false;
  private typingTimer: ReturnType<typeof setTimeout> | undefined;
  private theirTyping: ReturnType<typeof setTimeout> | undefined;
  private readSent = 0;
  private lastTheirs = 0;
  private readMark: HTMLElement | undefined;
  private queueText = "";
  private connText = "";
  private status = "waiting";
  private over = false;

  private readonly host: ChatHost;
  readonly st: Stored;

  constructor(host: ChatHost, st: Stored) {
    this.host = host;
    this.st = st;
    const s = host.s;
    this.bar = h("div", { class: "st", role: "status" });
    this.log = h("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": s.messages, tabindex: 0 });
    this.typingEl = h("div", { class: "ty" });
    this.input = h("textarea", { rows: 1, maxlength: MAX_TEXT, "aria-label": s.messageLabel, placeholder: s.placeholder });
    const file = h("input", { type: "file", hidden: true, tabindex: -1, accept: host.cfg?.attachments?.types?.join(",") });
    file.addEventListener("change", () => {
      const f = file.files?.[0];
      file.value = "";
      if (f) void this.attach(f);
    });
    this.composer = h(
      "form",
      { class: "cp" },
      h("button", { type: "button", class: "ib", "aria-label": s.attach, title: s.attach, onclick: () => file.click() }, icon("attach")),
      file,
      this.input,
      h("button", { type: "submit", class: "ib sd", "aria-label": s.send, title: s.send }, icon("send")),
    );
    this.composer.addEventListener("submit", (e) => {
      e.preventDefault();
      this.submit();
    });
    this.input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.submit();
      }
    });
    this.input.addEventListener("input", () => this.typed());
    this.endBox = h("div", { class: "en", hidden: true });
    this.el = h("div", { class: "bd" }, this.bar, this.log, this.typingEl, this.composer, this.endBox);

    for (const m of st.messages) this.show(m, false);
    for (const [clientId, text] of st.pending) this.draft(clientId, text);
    this.conn = new Connection(host.base, st.chatId, st.token, st.lastSeq, st.pending, st.messages.map((m) => m.seq), {
      message: (m) => this.show(m, true),
      ack: (clientId, seq) => this.confirm(clientId, seq),
      failed: (clientId, _code, message) => this.failed(clientId, message),
      frame: (f) => this.frame(f),
      state: (c) => this.connState(c),
      gone: () => {
        store.clear(st.tenant);
        host.restart(host.s.sessionLost);
      },
      changed: () => this.save(),
    });
    document.addEventListener("visibilitychange", this.seen);
    if (st.ended) this.ended();
    else {
      this.setBar();
      this.conn.start();
    }
  }

  save(): void {
    this.st.lastSeq = this.conn.lastSeq;
    this.st.pending = [...this.conn.pending];
    store.save(this.st);
  }

  focus(): void {
    (this.over ? this.endBox.querySelector<HTMLElement>("input,button") : this.input)?.focus();
    this.log.scrollTop = this.log.scrollHeight;
  }

  /** The panel was opened. */
  opened(): void {
    this.seen();
  }

  destroy(): void {
    this.conn.stop();
    clearTimeout(this.typingTimer);
    clearTimeout(this.theirTyping);
    document.removeEventListener("visibilitychange", this.seen);
  }

  async end(): Promise<void> {
    try {
      const live = this.conn.live;
      await this.conn.end();
      if (!live) this.ended("customer");
    } catch (e) {
      if (e instanceof ApiError && e.code === "chat_ended") this.ended();
      else this.note(this.host.s.error);
    }
  }

  // ---- messages ----

  private mine(m: ChatMessage): boolean {
    return m.from === this.st.me || m.role === "customer";
  }

  private show(m: ChatMessage, fresh: boolean): void {
    if (m.visibility === "staff" || this.bySeq.has(m.seq)) return;
    const mine = this.mine(m);
    const own = m.clientId ? this.mineByClient.get(m.clientId) : undefined;
    if (own) {
      this.confirm(m.clientId!, m.seq);
      return;
    }
    this.bySeq.set(m.seq, this.place(this.bubble(m, mine), m.seq));
    this.remember(m);
    if (!mine && m.kind !== "notice" && m.role !== "system") {
      this.lastTheirs = Math.max(this.lastTheirs, m.seq);
      if (fresh) {
        this.typingEl.textContent = "";
        if (!this.host.isOpen()) this.host.unread();
        this.seen();
      }
    }
  }

  private remember(m: ChatMessage): void {
    if (!this.st.messages.some((x) => x.seq === m.seq)) this.st.messages.push(m);
  }

  private bubble(m: ChatMessage, mine: boolean): HTMLElement {
    const s = this.host.s;
    const notice = m.kind === "notice" || m.role === "system";
    const tx = h("div", { class: "tx" });
    if (m.kind === "file" && m.file) tx.append(this.fileLink(m.file));
    else tx.textContent = m.text ?? "";
    return h(
      "div",
      { class: `m ${notice ? "nt" : mine ? "me" : "th"}` },
      notice || mine ? null : h("div", { class: "wh", text: m.name || s.agent }),
      tx,
      notice ? null : h("div", { class: "mt", text: clock(m.at) }),
    );
  }

  private fileLink(f: FileRef): HTMLElement {
    const label = `${f.name}${f.size ? ` (${kb(f.size)})` : ""}`;
    let url: URL | undefined;
    try {
      url = new URL(f.url, this.host.base);
    } catch {
      // no link then
    }
    if (!url || !/^https?:$/.test(url.protocol)) return h("span", { text: label });
    return h("a", { href: url.href, target: "_blank", rel: "noopener noreferrer", text: label });
  }

  /** In sequence order; a message not yet stored (no seq) stays last. */
  private place(el: HTMLElement, seq: number | undefined): HTMLElement {
    const log = this.log;
    const follow = log.scrollHeight - log.scrollTop - log.clientHeight < 60 || el.classList.contains("me");
    el.dataset.seq = seq === undefined ? "" : String(seq);
    let before: Element | null = null;
    if (seq !== undefined)
      for (const c of Array.from(log.children)) {
        const at = (c as HTMLElement).dataset.seq;
        if (c !== el && (at === "" || Number(at) > seq)) {
          before = c;
          break;
        }
      }
    log.insertBefore(el, before);
    if (follow) log.scrollTop = log.scrollHeight;
    return el;
  }

  private draft(clientId: string, text: string): void {
    const m: ChatMessage = { seq: 0, clientId, from: this.st.me ?? "customer", name: "", role: "customer", kind: "text", text, visibility: "all", at: Date.now() };
    const el = this.bubble(m, true);
    el.classList.add("pd");
    el.querySelector(".mt")!.textContent = this.host.s.sending;
    this.mineByClient.set(clientId, el);
    this.drafts.set(clientId, m);
    this.place(el, undefined);
  }

  private confirm(clientId: string, seq: number): void {
    const el = this.mineByClient.get(clientId);
    const d = this.drafts.get(clientId);
    if (!el || !d || el.dataset.seq) return;
    el.classList.remove("pd");
    el.querySelector(".mt")!.textContent = clock(d.at);
    this.bySeq.set(seq, el);
    this.place(el, seq);
    this.remember({ ...d, seq });
    this.save();
    this.readReceipt();
  }

  private failed(clientId: string, reason: string): void {
    const el = this.mineByClient.get(clientId);
    if (!el) return;
    el.classList.replace("pd", "fl");
    el.querySelector(".mt")!.textContent = fill(this.host.s, "notSent", { reason });
  }

  private submit(): void {
    const text = this.input.value.trim();
    if (!text || this.over) return;
    this.input.value = "";
    this.grow();
    this.stopTyping();
    this.draft(this.conn.send(text), text);
  }

  /** A line in the log that is not a chat message (not kept). */
  private note(text: string): HTMLElement {
    return this.place(h("div", { class: "m nt" }, h("div", { class: "tx", text })), undefined);
  }

  // ---- signals ----

  private grow(): void {
    this.input.style.height = "";
    this.input.style.height = `${Math.min(120, Math.max(40, this.input.scrollHeight + 2))}px`;
  }

  private typed(): void {
    this.grow();
    if (!this.input.value.trim()) return this.stopTyping();
    if (!this.typingOn) {
      this.typingOn = true;
      this.conn.typing(true);
    }
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.stopTyping(), 3000);
  }

  private stopTyping(): void {
    clearTimeout(this.typingTimer);
    if (this.typingOn) {
      this.typingOn = false;
      this.conn.typing(false);
    }
  }

  /** Read receipts: what the customer can see, they have read. */
  private readonly seen = (): void => {
    if (this.over || !this.host.isOpen() || document.visibilityState !== "visible" || this.lastTheirs <= this.readSent) return;
    this.readSent = this.lastTheirs;
    this.conn.read(this.lastTheirs);
  };

  private theirRead = 0;
  private readReceipt(): void {
    let last: HTMLElement | undefined;
    for (const [seq, el] of this.bySeq) if (seq <= this.theirRead && el.classList.contains("me") && (!last || seq > Number(last.dataset.seq))) last = el;
    if (!last || last === this.readMark) return;
    this.readMark?.querySelector(".rd")?.remove();
    last.querySelector(".mt")?.append(h("span", { class: "rd", text: ` · ${this.host.s.read}` }));
    this.readMark = last;
  }

  private frame(f: Frame): void {
    const s = this.host.s;
    switch (f.type) {
      case "hello":
        if (f.status) this.setStatus(f.status);
        if (f.status === "waiting") this.frame({ type: "queue", position: f.position, ewtSeconds: f.ewtSeconds });
        break;
      case "status":
        this.setStatus(f.status, f.reason);
        break;
      case "queue": {
        const parts: string[] = [];
        if (typeof f.position === "number" && f.position > 0) parts.push(fill(s, "position", { position: f.position }));
        if (typeof f.ewtSeconds === "number" && f.ewtSeconds >= 0)
          parts.push(fill(s, "wait", { wait: f.ewtSeconds < 60 ? s.waitSoon : fill(s, "waitMinutes", { minutes: Math.round(f.ewtSeconds / 60) }) }));
        this.queueText = parts.join(" ") || s.waiting;
        this.setBar();
        break;
      }
      case "typing":
        if (f.from === this.st.me) break;
        clearTimeout(this.theirTyping);
        this.typingEl.textContent = f.on ? fill(s, "typing", { name: f.name || s.agent }) : "";
        if (f.on) this.theirTyping = setTimeout(() => (this.typingEl.textContent = ""), 15_000);
        break;
      case "read":
        if (f.from !== this.st.me && f.seq > this.theirRead) {
          this.theirRead = f.seq;
          this.readReceipt();
        }
        break;
      case "error":
        if (f.error.code === "chat_ended") this.ended();
        else this.note(f.error.message || s.error);
        break;
    }
  }

  private setStatus(status: string, reason?: string): void {
    this.status = status;
    if (status === "ended") return this.ended(reason);
    this.queueText = status === "waiting" ? this.queueText || this.host.s.waiting : "";
    this.setBar();
  }

  private connState(c: ConnState): void {
    const s = this.host.s;
    if (c === "down") this.connText = s.reconnecting;
    else if (c === "offline") this.connText = s.offlineNet;
    else if (c !== "connecting") this.connText = "";
    this.setBar();
  }

  private setBar(): void {
    const t = this.over ? "" : this.connText || (this.status === "waiting" ? this.queueText || this.host.s.waiting : "");
    if (this.bar.textContent !== t) this.bar.textContent = t;
  }

  // ---- attachments ----

  private async attach(file: File): Promise<void> {
    const s = this.host.s;
    const max = this.host.cfg?.attachments?.maxBytes ?? 10 * 1024 * 1024;
    const types = this.host.cfg?.attachments?.types ?? ["image/*", "application/pdf", "text/plain"];
    if (file.size > max) return void this.note(fill(s, "fileTooBig", { name: file.name, max: kb(max) }));
    if (!typeAllowed(file.type || "application/octet-stream", types)) return void this.note(fill(s, "fileType", { name: file.name }));
    const note = this.note(fill(s, "uploading", { name: file.name }));
    try {
      const r = await this.conn.upload(file);
      note.remove();
      const m = ((r as { message?: ChatMessage })?.message ?? r) as ChatMessage;
      if (m && typeof m.seq === "number") this.conn.take(m);
    } catch (e) {
      note.remove();
      this.note(fill(s, "uploadFailed", { name: file.name, reason: (e instanceof ApiError && e.message) || s.error }));
    }
  }

  // ---- the end ----

  private ended(reason?: string): void {
    if (this.over) return;
    const s = this.host.s;
    const active = (this.el.getRootNode() as ShadowRoot | Document).activeElement;
    const hadFocus = !!active && this.el.contains(active);
    this.over = true;
    this.st.ended = true;
    this.conn.stop();
    this.save();
    this.stopTyping();
    this.composer.hidden = true;
    this.typingEl.textContent = "";
    this.setBar();
    this.host.chatEnded();
    // The transcript goes only to the address given before the chat (the server refuses any other),
    // so the widget offers that one and asks for none.
    const to = this.st.email?.trim();
    let form: HTMLElement | null = null;
    let send: HTMLButtonElement | null = null;
    if (to) {
      const err = h("div", { class: "er", role: "alert" });
      send = h("button", { type: "submit", class: "b2", text: s.transcript });
      form = h("form", null, h("p", { text: fill(s, "transcriptTo", { email: to }) }), err, send);
      const f = form;
      const b = send;
      f.addEventListener("submit", (e) => {
        e.preventDefault();
        b.disabled = true;
        err.textContent = "";
        this.conn
          .transcript(undefined)
          .then(() => f.replaceWith(h("p", { class: "ok", role: "status", text: fill(s, "transcriptSent", { email: to }) })))
          .catch((x: unknown) => {
            err.textContent = (x instanceof ApiError && x.message) || s.error;
            b.disabled = false;
          });
      });
    }
    const text = reason === "agent" ? s.endedAgent : reason === "customer" ? s.endedCustomer : reason === "idle" ? s.endedIdle : s.ended;
    this.endBox.append(
      h("p", { class: "ed", role: "status", text }),
      ...(form ? [form] : []),
      h("button", { type: "button", class: "bt", text: s.newChat, onclick: () => {
        store.clear(this.st.tenant);
        this.host.restart();
      } }),
    );
    this.endBox.hidden = false;
    this.log.scrollTop = this.log.scrollHeight;
    if (hadFocus) send?.focus();
  }
}
