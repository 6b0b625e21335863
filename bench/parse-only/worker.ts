// The email bench's baseline: HTTP → Worker → postal-mime over the posted raw message → a small JSON
// answer. The same stack as the ingest (wrangler dev, workerd, the same parser), minus storing and
// queueing, so the ingest's rate can be read against it.
import PostalMime from "postal-mime";

export default {
  async fetch(request: Request): Promise<Response> {
    const { pathname } = new URL(request.url);
    // What bench/lib/dev.ts waitUp polls.
    if (pathname === "/api/health") return new Response("ok");
    if (pathname !== "/parse" || request.method !== "POST") return new Response("not found", { status: 404 });
    const m = await PostalMime.parse(await request.arrayBuffer());
    return Response.json({ subject: m.subject ?? null, attachments: m.attachments.length, textLength: m.text?.length ?? 0 });
  },
};
