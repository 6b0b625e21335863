// Every visible text, by key. The tenant's `chat.strings` (from the config call) override these.
export const EN = {
  open: "Chat with us",
  title: "Chat with us",
  minimize: "Minimize chat",
  loading: "Loading…",
  loadFailed: "We couldn't load the chat. Please try again.",
  retry: "Try again",
  preChatIntro: "Tell us a little about yourself and we'll connect you with someone from our team.",
  startChat: "Start chat",
  starting: "Starting…",
  messages: "Messages",
  messageLabel: "Your message",
  placeholder: "Type a message…",
  send: "Send",
  attach: "Attach a file",
  endChat: "End chat",
  you: "You",
  agent: "Agent",
  waiting: "Waiting for an agent…",
  position: "You are number {position} in the queue.",
  wait: "Estimated wait: {wait}.",
  waitSoon: "less than a minute",
  waitMinutes: "about {minutes} min",
  typing: "{name} is typing…",
  reconnecting: "Connection lost. Reconnecting…",
  offlineNet: "You're offline. We'll reconnect when you're back.",
  sending: "Sending…",
  read: "Read",
  notSent: "Not sent: {reason}",
  fileTooBig: "{name} is too large (at most {max}).",
  fileType: "{name}: files of this type can't be sent.",
  uploading: "Sending {name}…",
  uploadFailed: "{name} could not be sent: {reason}",
  ended: "This chat has ended.",
  endedAgent: "The agent ended the chat.",
  endedCustomer: "You ended the chat.",
  endedIdle: "The chat was closed after a period of inactivity.",
  emailLabel: "Email",
  transcript: "Email me the transcript",
  transcriptTo: "To {email}, the address you gave us.",
  transcriptSent: "We'll email the transcript to {email}.",
  newChat: "Start a new chat",
  sessionLost: "Your chat session has expired. Please start a new chat.",
  offlineTitle: "Leave us a message",
  offlineIntro: "We're not available to chat right now. Leave a message and we'll get back to you.",
  closedIntro: "We're closed right now. Leave a message and we'll get back to you.",
  offlineSend: "Send message",
  thanks: "Thank you! We got your message and will get back to you soon.",
  closed: "We're closed right now. Please come back during our opening hours.",
  unavailable: "Chat isn't available right now. Please try again later.",
  error: "Something went wrong. Please try again.",
  optional: "(optional)",
};
export type Key = keyof typeof EN;
export type Strings = Record<Key, string>;

/** A string with its {placeholders} filled in. */
export function fill(s: Strings, key: Key, vars: Record<string, string | number> = {}): string {
  return s[key].replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m));
}

export function merge(over: Record<string, string> | undefined): Strings {
  const out: Strings = { ...EN };
  if (over) for (const k of Object.keys(EN) as Key[]) if (typeof over[k] === "string" && over[k]) out[k] = over[k];
  return out;
}
