// TwiML answers to Twilio's webhooks. Pure. An empty <Response/> acknowledges without replying;
// a <Message> answers the sender (opt-out confirmations, help).
const escapeXml = (s: string) => s.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!);

export function twiml(messages: string[] = []): Response {
  const body = `<?xml version="1.0" encoding="UTF-8"?><Response>${messages.map((m) => `<Message>${escapeXml(m)}</Message>`).join("")}</Response>`;
  return new Response(body, { headers: { "Content-Type": "text/xml; charset=utf-8" } });
}
