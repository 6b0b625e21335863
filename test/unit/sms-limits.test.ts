// Pure limits of the MM7 reader (issue 12, item 2) and the lenient reading of SMS senders (item 11a).
import { describe, expect, it } from "vitest";
import { MAX_MM7_PARTS, MAX_MM7_XML_DEPTH, MAX_MM7_XML_ELEMENTS, Mm7Error, parseDeliverReq, parseXml, splitMultipart, XmlLimitError } from "../../workers/sms/mm7.ts";
import { senderNumber } from "../../workers/sms/sender.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const limitOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (e instanceof XmlLimitError || e instanceof Mm7Error) return e.message;
    throw e;
  }
  throw new Error("no limit hit");
};

describe("MM7 XML limits", () => {
  it("refuses the '<a>' x 100,000 bomb on size, and nesting deeper than MAX_MM7_XML_DEPTH, instead of overflowing the stack", () => {
    expect(limitOf(() => parseXml("<a>".repeat(100_000)))).toContain("MAX_MM7_XML_BYTES");
    expect(limitOf(() => parseXml("<a>".repeat(10_000)))).toContain("MAX_MM7_XML_DEPTH");
    expect(() => parseXml("<a>".repeat(MAX_MM7_XML_DEPTH - 1))).not.toThrow();
  });

  it("refuses the close-tag bomb on size, and a smaller one on depth, before walking its close tags", () => {
    expect(limitOf(() => parseXml("<a>".repeat(2_000) + "</b>".repeat(1_000_000)))).toContain("MAX_MM7_XML_BYTES");
    expect(limitOf(() => parseXml("<a>".repeat(2_000) + "</b>".repeat(10_000)))).toContain("MAX_MM7_XML_DEPTH");
  });

  it("refuses more than MAX_MM7_XML_ELEMENTS elements", () => {
    expect(limitOf(() => parseXml("<x/>".repeat(MAX_MM7_XML_ELEMENTS + 1)))).toContain("MAX_MM7_XML_ELEMENTS");
    expect(() => parseXml(`<r>${"<x/>".repeat(MAX_MM7_XML_ELEMENTS - 1)}</r>`)).not.toThrow();
  });

  it("a DeliverReq over a limit is a 2007 fault naming it", () => {
    const e = (() => {
      try {
        parseDeliverReq("text/xml", enc("<a>".repeat(1_000)));
      } catch (x) {
        return x;
      }
    })();
    expect(e).toBeInstanceOf(Mm7Error);
    expect((e as Mm7Error).code).toBe(2007);
    expect((e as Mm7Error).message).toContain("MAX_MM7_XML_DEPTH");
  });

  it("decodes at most MAX_MM7_PARTS parts and counts the rest", () => {
    const env = `<Envelope><Body><DeliverReq><Sender><Number>+14155550123</Number></Sender><Recipients><To><Number>+13125550100</Number></To></Recipients></DeliverReq></Body></Envelope>`;
    const body = `--b\nContent-Type: text/xml\n\n${env}\n` + "--b\nContent-Type: image/gif\n\nx\n".repeat(50_000) + "--b--\n";
    const m = parseDeliverReq("multipart/related; boundary=b", enc(body));
    expect(m.parts).toHaveLength(MAX_MM7_PARTS);
    expect(m.omitted).toBe(50_000 - MAX_MM7_PARTS);
    expect(m.order).toHaveLength(MAX_MM7_PARTS);
  });
});

describe("MM7 MIME on bytes", () => {
  it("splits on delimiters at line starts only, with padding allowed and longer boundaries refused", () => {
    const r = splitMultipart(enc("pre\n--b \r\none\r\n--bb\nstill one\n--b\ntwo\n--b--\nepilogue"), "b");
    expect(r.parts.map((p) => new TextDecoder().decode(p))).toEqual(["one\r\n--bb\nstill one", "two"]);
    expect(r.omitted).toBe(0);
  });

  it("goes through a million empty lines (no part), and 200,000 near-delimiters (the one sniffed: MAX_MM7_PARTS cut out, the rest counted)", () => {
    expect(splitMultipart(new Uint8Array(1_000_000).fill(0x0a), "b")).toEqual({ parts: [], omitted: 0 });
    const r = splitMultipart(enc("\n--bx".repeat(200_000)), "b");
    expect(r.parts).toHaveLength(MAX_MM7_PARTS);
    expect(r.omitted).toBe(200_000 - MAX_MM7_PARTS);
  });

  it("decodes base64 (either alphabet, broken lines) and quoted-printable (soft breaks, =XX) from bytes", () => {
    const body = [
      "--b\nContent-Type: text/xml\n\n<DeliverReq><Sender>+14155550123</Sender><Recipients><To><Number>+13125550100</Number></To></Recipients></DeliverReq>",
      "--b\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n-_-_\n+/+/\n",
      "--b\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\ncaf=C3=A9 =  \r\nau lait =3D =ZZ",
      "--b--",
    ].join("\n");
    const m = parseDeliverReq("multipart/related; boundary=b", enc(body));
    expect([...m.parts[0]!.bytes]).toEqual([0xfb, 0xff, 0xbf, 0xfb, 0xff, 0xbf]);
    expect(m.parts[1]!.text).toBe("café au lait = =ZZ");
  });
});

describe("SMS senders, read leniently with the receiving number's country", () => {
  it("reads bare international digits, national numbers, 00 prefixes and E.164 as E.164", () => {
    expect(senderNumber("14155550177", "+13125550100")).toEqual({ number: "+14155550177", phone: true });
    expect(senderNumber("4155550177", "+13125550100")).toEqual({ number: "+14155550177", phone: true });
    expect(senderNumber("0014155550177", "+13125550100")).toEqual({ number: "+14155550177", phone: true });
    expect(senderNumber("33612345678", "+13125550100")).toEqual({ number: "+33612345678", phone: true });
    expect(senderNumber("+1 (415) 555-0177", "+447911123456")).toEqual({ number: "+14155550177", phone: true });
    expect(senderNumber("07911 123456", "+447911123400")).toEqual({ number: "+447911123456", phone: true });
  });

  it("keeps short codes and alphanumeric sender ids as sent, and refuses anything else", () => {
    expect(senderNumber("12345", "+13125550100")).toEqual({ number: "12345", phone: false });
    expect(senderNumber("ACME Bank", "+13125550100")).toEqual({ number: "ACME Bank", phone: false });
    for (const bad of ["<script>", "+1", "++++", "not a number!", ""]) expect(senderNumber(bad, "+13125550100")).toBeNull();
  });
});
