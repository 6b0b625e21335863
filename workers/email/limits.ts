// Limits on what one received mail may cost: every parser of untrusted mail works within these, and
// what goes over is kept in the raw message in R2 and flagged, never dropped silently. Pure constants.

/** Attachments stored as parts (an R2 object and a D1 row each) per message; the rest stay in the raw
 *  message and the message is flagged `attachments_truncated`. */
export const MAX_ATTACHMENTS_STORED = 100;
/** R2 puts of one message's attachments running at once. */
export const ATTACHMENT_PUT_CONCURRENCY = 6;
/** MIME parts nested inside each other (postal-mime's maxNestingDepth); deeper mail is stored unparsed,
 *  flagged `mime_too_deep`. */
export const MAX_MIME_DEPTH = 32;
/** Attached messages (message/rfc822) parsed inside each other; deeper ones stay attachments. */
export const MAX_RFC822_DEPTH = 3;
/** Header bytes across all of a message's parts (postal-mime's maxHeadersSize); more: stored unparsed,
 *  flagged `headers_too_large`. */
export const MAX_MIME_HEADER_BYTES = 1024 * 1024;
/** To and Cc addresses kept per message (each list); the rest are in the raw message, flagged
 *  `recipients_truncated`. Keeps the stored row under D1's 2 MB. */
export const MAX_RECIPIENTS_STORED = 500;
/** The header block read to find the recipient of a message posted without ?to=. */
export const MAX_RECIPIENT_HEADER_BYTES = 256 * 1024;
/** One address token longer than this is not an address (RFC 5321: 64 + 1 + 255). */
export const MAX_ADDRESS_CHARS = 320;
/** HTML characters turned into text (for search and quoting when a mail has no text part). */
export const MAX_HTML_TO_TEXT_CHARS = 2_000_000;
/** Elements open at once (unclosed tags) in HTML given to the sanitizer: HTMLRewriter keeps a stack of them
 *  and stops with "memory limit exceeded" at about 20,000, and slows down long before. */
export const MAX_HTML_OPEN_ELEMENTS = 1_000;
/** Elements in HTML given to the sanitizer (each costs a call into the element handler). */
export const MAX_HTML_ELEMENTS = 10_000;
/** Lines starting with "--" (MIME boundaries, at most) handed to postal-mime: it decodes every part it
 *  sees (about 0.2 ms each here), so a mail of 10,000 tiny parts cost 2.3 s. Past this the parse stops
 *  at that line; the raw message in R2 keeps the rest, and the message is flagged `parts_truncated`. */
export const MAX_MIME_BOUNDARY_LINES = 1_000;
