// Which thread a received message belongs to, in the order: the Message-IDs it answers
// (In-Reply-To, then References newest first) among those Parley received or sent; then our subject
// tag; then, where the tenant turns it on, the same normalized subject from the same contact lately.
// A Message-ID only joins a thread of the same contact, so two customers answering one newsletter
// (or one mail sent to both) get a thread each: the first reply of each starts its own thread and
// records the shared Message-ID for it, so that customer's next reply finds it again.
import type { InteractionState } from "../ucs/interactions.ts";
import { latestInboundOfThread, refsOf, tagsTaken, threadBySubject, threadByTag } from "../ucs/mail/threads.ts";
import { newTag } from "./subject.ts";

export type ThreadVia = "in-reply-to" | "references" | "tag" | "subject" | "new";

export interface ThreadDecision {
  /** The thread to join, or null for a new one. */
  threadId: string | null;
  via: ThreadVia;
  /** Message-IDs this message answered that belong to another contact's thread: recorded for the new thread. */
  foreignRefs: string[];
}

export interface LatestInThread {
  id: string;
  state: InteractionState;
  agentId: string | null;
  queue: string | null;
  contactId: string | null;
  /** The thread's subject tag. */
  tag: string | null;
}

interface RefRow {
  message_id: string;
  thread_id: string;
  contact_id: string | null;
}

export interface ThreadQuery {
  tenant: string;
  replyRefs: string[];
  inReplyTo: string | null;
  tag: string | null;
  subjectNorm: string;
  /** The sender's email, lowercased: the subject match looks for threads of the contact it belongs to. */
  senderEmail: string | null;
  subjectDays: number;
  now: number;
}

/** The lookups (for the caller's batch of reads), then the decision on their rows once the
 *  sender's contact is known. */
export function threadLookup(db: D1Database, q: ThreadQuery): { stmts: D1PreparedStatement[]; decide: (rows: D1Result[], contactId: string | null) => ThreadDecision } {
  const refs = q.replyRefs.slice(0, 50);
  const stmts: D1PreparedStatement[] = [refsOf(db, q.tenant, refs), threadByTag(db, q.tenant, q.tag ?? "")];
  const bySubject = q.subjectDays > 0 && q.subjectNorm.length >= 3 && q.senderEmail !== null;
  if (bySubject) stmts.push(threadBySubject(db, q.tenant, q.subjectNorm, q.now - q.subjectDays * 86_400_000, q.senderEmail!));
  const decide = (rows: D1Result[], contactId: string | null): ThreadDecision => {
    const refRows = (rows[0]?.results ?? []) as unknown as RefRow[];
    let foreign: string[] = [];
    if (refRows.length) {
      // Newest reference first; within one Message-ID only the sender's own thread.
      for (const ref of refs) {
        const own = refRows.find((r) => r.message_id === ref && contactId !== null && r.contact_id === contactId);
        if (own) return { threadId: own.thread_id, via: ref === q.inReplyTo ? "in-reply-to" : "references", foreignRefs: [] };
      }
      foreign = [...new Set(refRows.map((r) => r.message_id))];
    }
    const tagged = (rows[1]?.results[0] as { thread_id: string } | undefined)?.thread_id;
    if (q.tag && tagged) return { threadId: tagged, via: "tag", foreignRefs: foreign };
    const subj = bySubject ? (rows[2]?.results[0] as { thread_id: string } | undefined)?.thread_id : undefined;
    if (subj) return { threadId: subj, via: "subject", foreignRefs: foreign };
    return { threadId: null, via: "new", foreignRefs: foreign };
  };
  return { stmts, decide };
}

/** The newest inbound interaction of a thread: a reply joins it while it is open, else follows it. */
export async function latestInThread(db: D1Database, tenant: string, threadId: string): Promise<LatestInThread | null> {
  const r = await latestInboundOfThread(db, tenant, threadId);
  if (!r) return null;
  return { id: r.id, state: r.state, agentId: r.agent_id ?? r.last_agent, queue: r.queue, contactId: r.contact_id, tag: r.tag };
}

export const OPEN_STATES: ReadonlySet<InteractionState> = new Set(["new", "queued", "offered", "handling", "workbin"]);

/** A subject tag free in the tenant, for a new thread: three random candidates checked in one query
 *  (5 characters give 24 million tags, so among many threads a random one does collide now and then).
 *  Split like the lookups above, so inbound mail checks within its batch of reads. */
export function tagCandidates(db: D1Database, tenant: string): { stmt: D1PreparedStatement; pick: (rows: D1Result) => string } {
  const candidates = [newTag(), newTag(), newTag()];
  return {
    stmt: tagsTaken(db, tenant, candidates),
    pick: (rows) => {
      const taken = new Set((rows.results as { tag: string }[]).map((r) => r.tag));
      return candidates.find((c) => !taken.has(c)) ?? newTag();
    },
  };
}

export async function freeTag(db: D1Database, tenant: string): Promise<string> {
  const c = tagCandidates(db, tenant);
  return c.pick(await c.stmt.all());
}
