// Where a chat's transcript may be mailed: only to the address the customer gave before the chat.
// Anyone can open a chat, so an address typed afterwards would make the tenant's mailbox a relay
// to any victim. Pure.

export type TranscriptAddress = { ok: true; to: string } | { ok: false; code: "transcript_address" | "no_transcript_address"; message: string };

/** `preChat`: the address from the pre-chat form (already a bare, validated address); `asked`: one named in the request, if any. */
export function transcriptAddress(preChat: string | null, asked: string | null): TranscriptAddress {
  if (asked !== null && (preChat === null || asked.trim().toLowerCase() !== preChat.toLowerCase()))
    return { ok: false, code: "transcript_address", message: "email: the transcript goes only to the address given before the chat" };
  if (preChat === null) return { ok: false, code: "no_transcript_address", message: "no email address was given before the chat, so there is nowhere to send the transcript" };
  return { ok: true, to: preChat };
}
