// Compliance keywords (CTIA and carrier practice): a message that is only one of these words opts the
// sender out of, or back into, messages from that number, or asks for help. Pure.
export const OPT_OUT = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"] as const;
export const OPT_IN = ["START", "UNSTOP"] as const;
export const HELP = ["HELP", "INFO"] as const;

export type Keyword = "opt_out" | "opt_in" | "help";

/** The keyword a whole message is, if any: case, surrounding spaces and a trailing full stop or
 *  exclamation mark do not matter; a keyword inside a sentence is not one. */
export function keywordOf(body: string): Keyword | null {
  const w = body.trim().replace(/[.!]+$/, "").toUpperCase();
  if ((OPT_OUT as readonly string[]).includes(w)) return "opt_out";
  if ((OPT_IN as readonly string[]).includes(w)) return "opt_in";
  if ((HELP as readonly string[]).includes(w)) return "help";
  return null;
}
