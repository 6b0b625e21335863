// What the API answers, as the browser apps read it (the server's own types live with bindings).

export type Media = "email" | "webform" | "chat" | "sms" | "callback" | "generic";
export const MEDIA: Media[] = ["email", "webform", "chat", "sms", "callback", "generic"];
export type Presence = "logged_out" | "after_work" | "busy" | "ready" | "not_ready";

export interface QueueItem {
  id: string;
  media: Media;
  priority: number;
  subject: string | null;
  contactId: string | null;
  categories: string[];
  attributes: Record<string, unknown>;
  pinnedAgent?: string | null;
}

export interface Snapshot {
  agentId: string;
  loggedIn: boolean;
  afterWork: boolean;
  ready: Partial<Record<Media, boolean>>;
  reasons: Partial<Record<Media, string>>;
  load: Partial<Record<Media, number>>;
  capacity: Partial<Record<Media, number>>;
  maxTotal?: number;
  idleSince: number;
}

export interface WorkView {
  interactionId: string;
  media: Media;
  queue: string;
  state: string;
  offeredAt: number;
  expiresAt: number | null;
  acceptedAt: number | null;
  item: QueueItem;
}

export interface AgentStatus {
  agentId: string;
  presence: Presence;
  snapshot: Snapshot;
  offers: WorkView[];
  work: WorkView[];
  workbin: number;
}

export interface WorkbinEntry {
  interactionId: string;
  media: Media;
  item: QueueItem;
  queue: string;
  parkedAt: number;
  parkedBy: string;
}

export interface HistoryEvent {
  seq: number;
  at: number;
  actor: string;
  action: string;
  from: string | null;
  to: string | null;
  queue: string | null;
  agentId: string | null;
  reason: unknown;
}

export interface Interaction {
  id: string;
  media: Media;
  channel: string;
  direction: string;
  subject: string | null;
  threadId: string;
  parentId: string | null;
  contactId: string | null;
  state: string;
  queue: string | null;
  agentId: string | null;
  priority: number;
  categories: string[];
  attributes: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
  contact: { id: string; firstName: string | null; lastName: string | null } | null;
  parts: { id: string; kind: string; content: string | null; content_type: string | null; name: string | null; size: number | null }[];
  notes: { id: string; author: string; text: string; createdAt: number }[];
  history: HistoryEvent[];
}

export interface Address {
  addr: string;
  name?: string;
}

export interface Attachment {
  id: string;
  name: string | null;
  contentType: string | null;
  size: number | null;
  contentId: string | null;
  url: string;
}

export interface EmailMessage {
  id: string;
  interactionId: string;
  direction: "inbound" | "outbound";
  from: Address | null;
  to: Address[];
  cc: Address[];
  bcc: Address[];
  subject: string | null;
  date: string | null;
  flags: string[];
  status: string;
  automatic: boolean;
  author: string | null;
  createdAt: number;
  text: string;
  html: string | null;
  attachments: Attachment[];
  delivery?: { attempts: number; lastError: string | null; transport: string | null };
}

export interface StandardResponse {
  id: string;
  name: string;
  category: string;
  subject?: string;
  text: string;
}

export interface Compose {
  to: Address[];
  cc: Address[];
  subject: string;
  quoted?: string;
}

export interface Contact {
  id: string;
  firstName: string | null;
  lastName: string | null;
  mergedInto: string | null;
  identifiers: { kind: string; value: string; display?: string }[];
  interactions: { id: string; media: Media; subject: string | null; state: string; createdAt: number; direction: string }[];
}

export interface SearchResult {
  kind: "contact" | "message";
  /** The contact's id, or the interaction's for a message. */
  ref: string;
  contactId: string | null;
  /** The match in context, with the hits between [ and ]. */
  snippet: string;
}

export interface QueueStats {
  queue: string;
  waiting: number;
  offered: number;
  parked: number;
  scheduled: number;
  oldestWaitMs: number;
  entered: number;
  distributed: number;
  abandoned: number;
  stopped: number;
  avgWaitMs: number | null;
  avgHandleMs: number | null;
  serviceLevelPct: number | null;
  serviceLevelSeconds: number;
}

export interface AgentStat {
  id: string;
  fullName: string;
  state: Presence;
  ready: Partial<Record<Media, boolean>>;
  reasons: Partial<Record<Media, string>>;
  afterWork: boolean;
  load: Partial<Record<Media, number>>;
  totalLoad: number;
  capacity: Partial<Record<Media, number>>;
  maxTotal: number | null;
}

export interface ChatFrameMessage {
  seq: number;
  from: string;
  name?: string;
  role?: string;
  kind?: string;
  text?: string;
  clientId?: string | null;
  visibility?: string;
  at?: number;
  file?: { name: string; type: string; size: number; url: string };
}
