// The SMS bench's baseline: HTTP → Worker → an empty TwiML answer to POST /api/v1/sms/twilio. It reads
// the urlencoded body (as any Worker receiving it does) but checks, stores and queues nothing, so
// Parley's inbound rate can be read against the platform's floor for the same requests.
const TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

export default {
  async fetch(request: Request): Promise<Response> {
    const { pathname } = new URL(request.url);
    // What bench/lib/dev.ts waitUp polls.
    if (pathname === "/api/health") return new Response("ok");
    if (pathname !== "/api/v1/sms/twilio" || request.method !== "POST") return new Response("not found", { status: 404 });
    await request.text();
    return new Response(TWIML, { headers: { "Content-Type": "text/xml" } });
  },
};
