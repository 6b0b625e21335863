// MM7 DeliverReq parsing (workers/sms/mm7.ts): a clean REL-6 request, a sloppy one as real relays
// send them, SMIL ordering, refusals, and the DeliverRsp and Fault we answer with.
import { describe, expect, it } from "vitest";
import { DEFAULT_MM7_NS, deliverRsp, findEl, Mm7Error, parseDeliverReq, parseXml, soapFault, textOf } from "../../workers/sms/mm7.ts";

const REL6 = "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-4";
const REL5 = "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-5-MM7-1-0";

/** Bytes from strings (UTF-8) and raw byte runs. */
const bytes = (...chunks: (string | Uint8Array | number[])[]): Uint8Array => {
  const arrs = chunks.map((c) => (typeof c === "string" ? new TextEncoder().encode(c) : c instanceof Uint8Array ? c : new Uint8Array(c)));
  const out = new Uint8Array(arrs.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrs) out.set(a, at), (at += a.length);
  return out;
};
const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));
const crlf = (s: string) => s.replace(/\r?\n/g, "\r\n");

const JPEG = [0xff, 0xd8, 0xff, 0xe0, 0x0d, 0x0a, 0x2d, 0x2d, 0x00, 0x0d, 0x0a, 0xff, 0xd9];
const AMR = new Uint8Array([0x23, 0x21, 0x41, 0x4d, 0x52, 0x0a, 0x3c, 0x91, 0x17, 0x16]);

const cleanEnvelope = (o: { tx?: string; to?: string; from?: string } = {}) =>
  crlf(`<?xml version="1.0" encoding="UTF-8"?>
<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/">
  <env:Header>
    <mm7:TransactionID xmlns:mm7="${REL6}" env:mustUnderstand="1">${o.tx ?? "tx-clean-1"}</mm7:TransactionID>
  </env:Header>
  <env:Body>
    <DeliverReq xmlns="${REL6}">
      <MM7Version>6.8.0</MM7Version>
      <MMSRelayServerID>relay.example.net</MMSRelayServerID>
      <LinkedID>link-42</LinkedID>
      <Sender><Number>${o.from ?? "+14155550123"}</Number></Sender>
      <Recipients><To><Number displayOnly="false">${o.to ?? "+13125550100"}</Number></To></Recipients>
      <TimeStamp>2024-05-01T10:00:00Z</TimeStamp>
      <Priority>Normal</Priority>
      <Subject>Broken screen</Subject>
      <Content href="cid:mms-content" allowAdaptations="true"/>
    </DeliverReq>
  </env:Body>
</env:Envelope>`);

const SMIL = `<smil xmlns="http://www.w3.org/2001/SMIL20/Language"><head><layout><root-layout width="320" height="480"/><region id="Image" top="0" height="70%"/><region id="Text" top="70%" height="30%"/></layout></head>
<body><par dur="5000ms"><img src="cid:photo" region="Image"/><text src="text1.txt" region="Text"/></par><par dur="3000ms"><audio src="cid:voice"/><text src="cid:text2" region="Text"/></par></body></smil>`;

/** A clean REL-6 DeliverReq: SMIL, two texts (one ISO-8859-1), a JPEG, an AMR; the SMIL shows them in another order. */
function cleanRequest(o: { tx?: string; to?: string; from?: string } = {}): { contentType: string; body: Uint8Array } {
  const body = bytes(
    crlf(`------=_Outer_1
Content-Type: text/xml; charset=utf-8
Content-ID: <soap-start>

`),
    cleanEnvelope(o),
    crlf(`
------=_Outer_1
Content-Type: multipart/related; boundary="inner-b"; start="<smil>"; type="application/smil"
Content-ID: <mms-content>

--inner-b
Content-Type: application/smil; charset=utf-8
Content-ID: <smil>
Content-Location: presentation.smil

${SMIL}
--inner-b
Content-Type: text/plain; charset=utf-8
Content-ID: <text1>
Content-Location: text1.txt

My screen is cracked ✓
--inner-b
Content-Type: text/plain; charset=iso-8859-1
Content-ID: <text2>
Content-Transfer-Encoding: 8bit

`),
    latin1("Café crème, s'il vous plaît"),
    crlf(`
--inner-b
Content-Type: image/jpeg; name=photo.jpg
Content-ID: <photo>
Content-Location: photo.jpg
Content-Transfer-Encoding: binary

`),
    JPEG,
    crlf(`
--inner-b
Content-Type: audio/amr
Content-ID: <voice>
Content-Transfer-Encoding: base64

${b64(AMR)}
--inner-b--

------=_Outer_1--
`),
  );
  return { contentType: `multipart/related; boundary="----=_Outer_1"; type="text/xml"; start="<soap-start>"`, body };
}

describe("MM7 DeliverReq", () => {
  it("reads a clean REL-6 DeliverReq with SMIL, texts in two charsets, an image and audio", () => {
    const { contentType, body } = cleanRequest();
    const m = parseDeliverReq(contentType, body);
    expect(m).toMatchObject({
      transactionId: "tx-clean-1", mm7Version: "6.8.0", namespace: REL6, from: "+14155550123", to: ["+13125550100"],
      subject: "Broken screen", linkedId: "link-42", timeStamp: "2024-05-01T10:00:00Z", priority: "Normal", smilIndex: 0,
    });
    expect(m.parts.map((p) => [p.contentId, p.location, p.contentType, p.charset])).toEqual([
      ["smil", "presentation.smil", "application/smil", "utf-8"],
      ["text1", "text1.txt", "text/plain", "utf-8"],
      ["text2", null, "text/plain", "iso-8859-1"],
      ["photo", "photo.jpg", "image/jpeg", null],
      ["voice", null, "audio/amr", null],
    ]);
    expect(m.parts[1]!.text).toBe("My screen is cracked ✓");
    expect(m.parts[2]!.text).toBe("Café crème, s'il vous plaît");
    expect([...m.parts[3]!.bytes]).toEqual(JPEG);
    expect(m.parts[3]!.name).toBe("photo.jpg");
    expect([...m.parts[4]!.bytes]).toEqual([...AMR]);
    expect(m.smil).toContain("<par dur=\"5000ms\">");
    // The SMIL's order (photo, text1, voice, text2), then the part it does not show (the SMIL itself).
    expect(m.order).toEqual([3, 1, 4, 2, 0]);
  });

  it("reads a sloppy REL-5 request: undeclared prefixes, no start, CDATA, entities, base64 and quoted-printable, mixed line endings", () => {
    const envelope = `<?xml version='1.0'?>
<!-- relay v2.1 -->
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:mm7="${REL5}">
<soap:Header><m:TransactionID soap:mustUnderstand="1">  tx-sloppy&amp;7 </m:TransactionID></soap:Header>
<soap:Body>
<m:DeliverReq>
  <m:MM7Version>5.3.0</MM7Version>
  <m:Sender><m:RFC2822Address>+14155550123/TYPE=PLMN</m:RFC2822Address></m:Sender>
  <m:Recipients>
    <m:To><m:ShortCode>12345</m:ShortCode></m:To>
    <m:To><m:Number> 13125550100 </m:Number></m:To>
  </m:Recipients>
  <m:LinkedID>caf&#233; &lt;1&gt; &#x2713;</m:LinkedID>
  <m:Subject><![CDATA[Re: <order> #5 & more]]></m:Subject>
  <m:Content href='cid:body%40relay'/>
</m:DeliverReq>
</soap:Body>
</soap:Envelope>`;
    const qp = "Prix: 10 =E2=82=AC, d=C3=A9j=C3=A0 pay=\n=C3=A9 =3D ok";
    const utf16 = new Uint8Array([0xff, 0xfe, ...[..."Hé ✓"].flatMap((c) => [c.charCodeAt(0) & 0xff, c.charCodeAt(0) >> 8])]);
    const gif = new Uint8Array([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x00, 0xff]);
    // The outer parts with CRLF, the content's inner parts with bare LF.
    const body = bytes(
      crlf(`This is a multi-part message in MIME format.
--outerB
Content-Type: text/xml

`),
      crlf(envelope),
      crlf(`
--outerB
Content-Type: multipart/mixed;
 boundary=innerB
Content-ID: <body@relay>

`),
      `--innerB
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: BASE64

${b64(new TextEncoder().encode("Première partie"))}
--innerB
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

${qp}
--innerB
Content-Type: text/plain; charset=UTF-16
Content-Transfer-Encoding: base64

${b64(utf16)}
--innerB
Content-Type: image/gif
Content-Location: pic.gif
Content-Transfer-Encoding: base64

${b64(gif).replace(/(.{8})/g, "$1\n")}
--innerB--
`,
      crlf(`
--outerB--
`),
    );
    const m = parseDeliverReq("multipart/related; boundary=outerB", body);
    expect(m).toMatchObject({
      transactionId: "tx-sloppy&7", mm7Version: "5.3.0", namespace: REL5, from: "+14155550123", to: ["12345", "13125550100"],
      subject: "Re: <order> #5 & more", linkedId: "café <1> ✓",
    });
    expect(m.smil).toBeUndefined();
    expect(m.parts.map((p) => p.text ?? null)).toEqual(["Première partie", "Prix: 10 €, déjà payé = ok", "Hé ✓", null]);
    expect(m.parts[3]).toMatchObject({ contentType: "image/gif", location: "pic.gif" });
    expect([...m.parts[3]!.bytes]).toEqual([...gif]);
    expect(m.order).toEqual([0, 1, 2, 3]);
  });

  it("orders parts by the SMIL through Content-ID or Content-Location, the rest after as they came", () => {
    const smil = `<smil><body><par><video src="clip.3gp"/></par><par><img src="cid:%3Cpic2%3E"/><text src="./dir/NOTE.TXT"/></par></body></smil>`;
    const part = (headers: string, content: string) => `--b\n${headers}\n\n${content}\n`;
    const body =
      part("Content-Type: text/xml", `<Envelope><Body><DeliverReq><Sender>+14155550123</Sender><Recipients><To><Number>+13125550100</Number></To></Recipients></DeliverReq></Body></Envelope>`) +
      part("Content-Type: multipart/related; boundary=c", [
        "--c\nContent-Type: image/png\nContent-ID: <pic1>\n\npng1",
        "--c\nContent-Type: text/plain\nContent-Location: note.txt\n\nthe note",
        "--c\nContent-Type: application/smil\nContent-ID: <s>\n\n" + smil,
        "--c\nContent-Type: image/png\nContent-ID: <pic2>\n\npng2",
        "--c\nContent-Type: video/3gpp\nContent-Location: clip.3gp\n\nvid",
        "--c--",
      ].join("\n")) +
      "--b--\n";
    const m = parseDeliverReq("multipart/related; boundary=b", bytes(body));
    // Buggy relays' Sender with the address as its own text is taken too.
    expect(m.from).toBe("+14155550123");
    expect(m.parts.map((p) => p.contentId ?? p.location)).toEqual(["pic1", "note.txt", "s", "pic2", "clip.3gp"]);
    expect(m.order).toEqual([4, 3, 1, 0, 2]);
    expect(m.smilIndex).toBe(2);
  });

  it("takes a bare SOAP envelope with no attachments", () => {
    const m = parseDeliverReq("text/xml; charset=utf-8", bytes(cleanEnvelope({ tx: "bare" })));
    expect(m).toMatchObject({ transactionId: "bare", parts: [], order: [] });
  });

  it("refuses what can't be understood: no DeliverReq, no sender, no recipient", () => {
    const fail = (ct: string, body: string) => {
      try {
        parseDeliverReq(ct, bytes(body));
      } catch (e) {
        expect(e).toBeInstanceOf(Mm7Error);
        return e as Mm7Error;
      }
      throw new Error("parsed");
    };
    expect(fail("text/plain", "hello there").code).toBe(2007);
    expect(fail("multipart/related; boundary=x", "--x\nContent-Type: text/xml\n\n<Envelope><Body><SubmitReq/></Body></Envelope>\n--x--").message).toContain("no DeliverReq");
    const noTo = fail("text/xml", `<e:Envelope><e:Header><TransactionID>t9</TransactionID></e:Header><e:Body><DeliverReq xmlns="${REL6}"><Sender><Number>+1415</Number></Sender></DeliverReq></e:Body></e:Envelope>`);
    expect(noTo).toMatchObject({ code: 2007, transactionId: "t9", namespace: REL6 });
    expect(noTo.message).toContain("recipient");
    expect(fail("text/xml", "<DeliverReq><Recipients><To><Number>+13125550100</Number></To></Recipients></DeliverReq>").message).toContain("Sender");
    expect(fail("application/octet-stream", "\u0000\u0001<<<&&&").code).toBe(2007);
  });
});

describe("MM7 answers", () => {
  it("builds a DeliverRsp with the TransactionID, the namespace and the MM7Version echoed", () => {
    const x = deliverRsp("tx<&>1", REL5, { code: 1000, text: "Success" }, "5.3.0");
    expect(x.startsWith('<?xml version="1.0" encoding="UTF-8"?><env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/">')).toBe(true);
    expect(x).toContain(`<mm7:TransactionID xmlns:mm7="${REL5}" env:mustUnderstand="1">tx&lt;&amp;&gt;1</mm7:TransactionID>`);
    expect(x).toContain(`<DeliverRsp xmlns="${REL5}"><MM7Version>5.3.0</MM7Version><Status><StatusCode>1000</StatusCode><StatusText>Success</StatusText></Status></DeliverRsp>`);
    const doc = parseXml(x);
    expect(textOf(findEl(doc, "TransactionID"))).toBe("tx<&>1");
    expect(textOf(findEl(findEl(doc, "Body")!, "StatusCode"))).toBe("1000");
    // Not an MM7 namespace: the default one instead.
    expect(deliverRsp("t", 'x" onload="')).toContain(`<DeliverRsp xmlns="${DEFAULT_MM7_NS}">`);
  });

  it("builds a SOAP Fault with a VASPErrorRsp detail", () => {
    const x = soapFault("tx-9", REL6, 2007, "no DeliverReq in the SOAP body");
    const doc = parseXml(x);
    const fault = findEl(doc, "Fault")!;
    expect(fault.prefix).toBe("env");
    expect(textOf(findEl(fault, "faultcode"))).toBe("env:Client");
    expect(textOf(findEl(fault, "faultstring"))).toBe("no DeliverReq in the SOAP body");
    const detail = findEl(findEl(fault, "detail")!, "VASPErrorRsp")!;
    expect(detail.attrs.xmlns).toBe(REL6);
    expect(textOf(findEl(detail, "StatusCode"))).toBe("2007");
    expect(textOf(findEl(detail, "StatusText"))).toBe("Message format corrupt");
    expect(textOf(findEl(detail, "Details"))).toBe("no DeliverReq in the SOAP body");
    expect(textOf(findEl(doc, "TransactionID"))).toBe("tx-9");
    expect(soapFault("", REL6, 3000, "down")).toContain("<faultcode>env:Server</faultcode>");
    expect(soapFault("", REL6, 3000, "down")).not.toContain("Header");
  });
});
