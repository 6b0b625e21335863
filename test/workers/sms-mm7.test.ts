// MM7 inbound through the Worker: a relay's DeliverReq becomes one MMS interaction per TransactionID,
// its parts in R2 in the SMIL's order; wrong credentials, garbage and unknown numbers get SOAP faults.
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { makeTenant, type Tenant } from "../helpers.ts";

const SECRET = "tenant-own-generic-secret-8f2d";
const REL6 = "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-4";
let n = 0;

async function mmsTenant(): Promise<Tenant & { number: string }> {
  const number = `+1312666${String(1000 + (Date.now() % 8000) + n++).padStart(4, "0")}`;
  const t = await makeTenant([{ id: "ana", capacity: { sms: 1 } }], undefined, { numbers: [{ number, provider: "generic", mode: "paging", workflow: "main", secret: "generic" }] }, { secrets: { generic: SECRET } });
  return Object.assign(t, { number });
}

const bytes = (...chunks: (string | Uint8Array | number[])[]): Uint8Array => {
  const arrs = chunks.map((c) => (typeof c === "string" ? new TextEncoder().encode(c) : c instanceof Uint8Array ? c : new Uint8Array(c)));
  const out = new Uint8Array(arrs.reduce((k, a) => k + a.length, 0));
  let at = 0;
  for (const a of arrs) out.set(a, at), (at += a.length);
  return out;
};
const crlf = (s: string) => s.replace(/\r?\n/g, "\r\n");
const JPEG = [0xff, 0xd8, 0xff, 0xe0, 0x0d, 0x0a, 0x2d, 0x2d, 0x00, 0xff, 0xd9];
const AMR = [0x23, 0x21, 0x41, 0x4d, 0x52, 0x0a, 0x3c, 0x91];

/** A DeliverReq: SMIL (photo, text1, voice, text2), then the parts in another order. */
function deliverReq(o: { tx: string; to: string; from?: string }): Uint8Array {
  return bytes(
    crlf(`--outer
Content-Type: text/xml; charset=utf-8
Content-ID: <env>

<?xml version="1.0" encoding="UTF-8"?>
<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/">
<env:Header><mm7:TransactionID xmlns:mm7="${REL6}" env:mustUnderstand="1">${o.tx}</mm7:TransactionID></env:Header>
<env:Body><DeliverReq xmlns="${REL6}"><MM7Version>6.8.0</MM7Version>
<Sender><Number>${o.from ?? "+14155550123"}</Number></Sender>
<Recipients><To><Number>${o.to}</Number></To></Recipients>
<Subject>Broken screen</Subject><Content href="cid:content"/></DeliverReq></env:Body></env:Envelope>
--outer
Content-Type: multipart/related; boundary=inner; type="application/smil"
Content-ID: <content>

--inner
Content-Type: application/smil
Content-ID: <smil>

<smil><body><par><img src="cid:photo"/><text src="text1.txt"/></par><par><audio src="cid:voice"/><text src="cid:text2"/></par></body></smil>
--inner
Content-Type: text/plain; charset=utf-8
Content-Location: text1.txt

It fell off the table
--inner
Content-Type: text/plain; charset=iso-8859-1
Content-ID: <text2>
Content-Transfer-Encoding: quoted-printable

Merci, caf=E9 renvers=E9
--inner
Content-Type: image/jpeg
Content-ID: <photo>
Content-Transfer-Encoding: binary

`),
    JPEG,
    crlf(`
--inner
Content-Type: audio/amr
Content-ID: <voice>
Content-Transfer-Encoding: base64

${btoa(String.fromCharCode(...AMR))}
--inner--
--outer--
`),
  );
}

function mm7(body: Uint8Array | string, o: { password?: string | null; user?: string; contentType?: string } = {}): Promise<Response> {
  const headers = new Headers({ "Content-Type": o.contentType ?? 'multipart/related; boundary="outer"; type="text/xml"; start="<env>"', SOAPAction: '""' });
  if (o.password !== null) headers.set("Authorization", `Basic ${btoa(`${o.user ?? "relay"}:${o.password ?? SECRET}`)}`);
  return exports.default.fetch(new Request("http://parley.test/api/v1/mms/mm7", { method: "POST", headers, body }));
}

type Part = { seq: number; kind: string; content: string | null; r2_key: string | null; content_type: string | null; name: string | null; size: number | null };

describe("MM7 inbound", () => {
  it("makes a DeliverReq one MMS interaction, its parts in R2 in the SMIL's order, once per TransactionID", async () => {
    const t = await mmsTenant();
    const req = deliverReq({ tx: "relay-tx-1", to: t.number });
    const res = await mm7(req);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("text/xml; charset=utf-8");
    const xml = await res.text();
    expect(xml).toContain(">relay-tx-1</mm7:TransactionID>");
    expect(xml).toContain(`<DeliverRsp xmlns="${REL6}"><MM7Version>6.8.0</MM7Version><Status><StatusCode>1000</StatusCode><StatusText>Success</StatusText></Status></DeliverRsp>`);

    const rows = await env.SHARD_1.prepare("SELECT interaction_id, customer, body FROM sms_messages WHERE tenant_id = ?").bind(t.id).all<{ interaction_id: string; customer: string; body: string }>();
    expect(rows.results).toHaveLength(1);
    expect(rows.results[0]).toMatchObject({ customer: "+14155550123", body: "Broken screen\nIt fell off the table\nMerci, café renversé" });
    const i = await t.call<{ channel: string; media: string; parts: Part[] }>(`/api/v1/interactions/${rows.results[0]!.interaction_id}`);
    expect(i.channel).toBe("mms");
    expect(i.parts[0]).toMatchObject({ kind: "text", content: "Broken screen\nIt fell off the table\nMerci, café renversé" });
    const files = i.parts.filter((p) => p.kind === "attachment");
    expect(files.map((p) => [p.content_type, p.name])).toEqual([
      ["image/jpeg", "part-1.jpg"],
      ["text/plain", "text1.txt"],
      ["audio/amr", "part-3.amr"],
      ["text/plain", "part-4.txt"],
      ["application/smil", "presentation.smil"],
    ]);
    const blob = async (p: Part) => new Uint8Array(await (await env.BLOBS.get(p.r2_key!))!.arrayBuffer());
    expect([...(await blob(files[0]!))]).toEqual(JPEG);
    expect([...(await blob(files[2]!))]).toEqual(AMR);
    // Text is kept as UTF-8 whatever charset it came in.
    expect(new TextDecoder().decode(await blob(files[3]!))).toBe("Merci, café renversé");
    expect((await env.BLOBS.head(files[3]!.r2_key!))!.httpMetadata!.contentType).toBe("text/plain; charset=utf-8");
    for (const f of files) expect(f.r2_key!.startsWith(`${t.id}/mms/`)).toBe(true);

    // The relay's retry: the same answer, nothing doubled.
    const again = await mm7(req);
    expect(again.status).toBe(200);
    expect(await again.text()).toBe(xml);
    const count = await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM interactions WHERE tenant_id = ?").bind(t.id).first<{ n: number }>();
    expect(count!.n).toBe(1);
    expect((await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM sms_messages WHERE tenant_id = ?").bind(t.id).first<{ n: number }>())!.n).toBe(1);
  });

  it("refuses a wrong or missing password with 401 and a fault", async () => {
    const t = await mmsTenant();
    const req = deliverReq({ tx: "relay-tx-2", to: t.number });
    for (const password of ["not-the-secret", null]) {
      const res = await mm7(req, { password });
      expect(res.status).toBe(401);
      expect(res.headers.get("WWW-Authenticate")).toBe('Basic realm="parley-mm7"');
      const xml = await res.text();
      expect(xml).toContain("<faultcode>env:Client</faultcode>");
      expect(xml).toContain("<StatusCode>4001</StatusCode>");
    }
    expect((await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM sms_messages WHERE tenant_id = ?").bind(t.id).first<{ n: number }>())!.n).toBe(0);
  });

  it("answers garbage with 400 and unknown recipients as a wrong password (401), with a SOAP fault", async () => {
    const t = await mmsTenant();
    const garbage = await mm7("this is not a DeliverReq", { contentType: "text/plain" });
    expect(garbage.status).toBe(400);
    expect(garbage.headers.get("Content-Type")).toBe("text/xml; charset=utf-8");
    const g = await garbage.text();
    expect(g).toContain("<env:Fault>");
    expect(g).toContain("<StatusCode>2007</StatusCode>");

    // An unknown recipient is answered as a wrong password is (issue 12): no telling which numbers are ours.
    const unknown = await mm7(deliverReq({ tx: "relay-tx-3", to: "+19995550000" }));
    expect(unknown.status).toBe(401);
    const u = await unknown.text();
    expect(u).toContain("<StatusCode>4001</StatusCode>");
    expect(u).toContain(">relay-tx-3</mm7:TransactionID>");
    expect((await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM sms_messages WHERE tenant_id = ?").bind(t.id).first<{ n: number }>())!.n).toBe(0);
  });
});
