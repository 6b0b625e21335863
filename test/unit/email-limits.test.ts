// The pure parts of issue 12's email hardening: the linear HTML scanner, HTML shape limits, faithful
// addresses, the bounded pool, and postal-mime's limits as Parley sets them.
import { describe, expect, it } from "vitest";
import { htmlToText, prepareHtml } from "../../workers/email/html-scan.ts";
import { faithfulAddress, unsendableReason } from "../../workers/email/addresses.ts";
import { mapLimit } from "../../workers/email/pool.ts";
import { cutAtBoundaryLimit, parseMail } from "../../workers/email/parse.ts";
import { MAX_ATTACHMENTS_STORED, MAX_HTML_ELEMENTS, MAX_HTML_OPEN_ELEMENTS, MAX_MIME_BOUNDARY_LINES, MAX_MIME_DEPTH, MAX_RECIPIENTS_STORED } from "../../workers/email/limits.ts";

const enc = (s: string) => new TextEncoder().encode(s);

describe("htmlToText", () => {
  it.each([
    ["<p>Hello</p><p>World</p>", "Hello\nWorld"],
    ["<html><head><title>T</title><style>p{color:red}</style></head><body>Hi<br>there</body></html>", "Hi\nthere"],
    ["a<script>alert('<p>')</script>b", "a b"],
    ["<STYLE type=x>.a{}</STYLE >Text", "Text"],
    ["1 &lt; 2 &amp;&amp; 3 &gt; 2 &quot;ok&quot; it&#39;s&nbsp;fine", '1 < 2 && 3 > 2 "ok" it\'s fine'],
    ["<!-- <p>hidden</p> -->shown", "shown"],
    ["a   \t b\n\n\n  c  ", "a b\nc"],
    ["x < y and y > z", "x < y and y > z"],
    ["<div>one<div>two</div></div>", "one two"],
    ["unclosed <b", "unclosed"],
  ])("%j → %j", (html, text) => {
    expect(htmlToText(html)).toBe(text);
  });

  it("keeps the text after an unclosed <style>, as a browser shows nothing but the old regex kept it", () => {
    expect(htmlToText("<p>Before</p><style a>after")).toBe("Before\nafter");
  });

  it("reads the pathological inputs of issue 12 to the end (linear: one search per kind of closing token)", () => {
    expect(htmlToText(`<p>Before</p>${"<style a>".repeat(60_000)}`)).toBe("Before");
    expect(htmlToText(`x${"<".repeat(200_000)}`)).toBe(`x${"<".repeat(200_000)}`);
    expect(htmlToText(`${"<!--".repeat(50_000)}y`)).toBe("");
    expect(htmlToText(`a${"\u00a0".repeat(100_000)}b`)).toBe(`a${"\u00a0".repeat(100_000)}b`);
  });
});

describe("prepareHtml", () => {
  it("counts elements and the most open at once; void, self-closed and closed elements do not stay open", () => {
    expect(prepareHtml("<div><p>a</p><br><img src=x><span/></div>")).toMatchObject({ elements: 5, maxOpen: 2, tooComplex: null });
    expect(prepareHtml("<p>a<p>b<p>c")).toMatchObject({ elements: 3, maxOpen: 3 });
  });
  it("drops what the sanitizer drops with its content (raw-text elements, comments, doctype) and escapes stray '<'", () => {
    expect(prepareHtml(`<!DOCTYPE html><p>a</p><style a>${"<div>".repeat(10)}`)).toMatchObject({ html: "<p>a</p>", elements: 1, maxOpen: 1 });
    expect(prepareHtml("<script>'<div><div>'</script><b>x</b><!-- <i> -->").html).toBe("<b>x</b>");
    expect(prepareHtml("<textarea><b>t</b></textarea>1 < 2 <3 <b>ok</b>").html).toBe("1 &lt; 2 &lt;3 <b>ok</b>");
    expect(prepareHtml('<a title="x">y</a>').html).toBe('<a title="x">y</a>');
  });
  it("refuses HTML past the limits and accepts ordinary mail HTML", () => {
    expect(prepareHtml("<div>".repeat(20_000)).tooComplex).toMatch(/nests more than/);
    expect(prepareHtml("<div>".repeat(MAX_HTML_OPEN_ELEMENTS)).tooComplex).toBeNull();
    expect(prepareHtml("<b></b>".repeat(MAX_HTML_ELEMENTS + 1)).tooComplex).toMatch(/more than \d+ elements/);
    expect(prepareHtml(`<table>${"<tr><td>x</td></tr>".repeat(1000)}</table>`).tooComplex).toBeNull();
  });
});

describe("faithfulAddress and unsendableReason", () => {
  it.each([
    ["john doe@example.com", '"john doe"@example.com'],
    ['a"b@x.example', '"a\\"b"@x.example'],
    ["john.doe@example.com", "john.doe@example.com"],
    ['"john doe"@example.com', '"john doe"@example.com'],
    ["user@[127.0.0.1]", "user@[127.0.0.1]"],
    ["jürgen@bücher.example", "jürgen@bücher.example"],
  ])("%j is kept as %j", (parsed, faithful) => {
    expect(faithfulAddress(parsed)).toBe(faithful);
  });
  it.each([["pat@example.com"], ['"john doe"@example.com'], ["o'brien+x@mail.example.co.uk"], ["jürgen@bücher.example"]])("%j can be sent to", (a) => {
    expect(unsendableReason(a)).toBeNull();
  });
  it.each([
    ["user@[127.0.0.1]", /IP literal/],
    ["user@[IPv6:::1]", /IP literal/],
    ['"a\r\nBcc: x"@example.com', /local part/],
    ["a b@example.com", /local part/],
    ["pat@exa mple.com", /host name/],
    ["pat", /no local part/],
  ])("%j is refused", (a, why) => {
    expect(unsendableReason(a)).toMatch(why);
  });
});

describe("mapLimit", () => {
  it("keeps the order and never runs more than the limit at once", async () => {
    let running = 0;
    let most = 0;
    const out = await mapLimit(Array.from({ length: 50 }, (_, i) => i), 4, async (x) => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 1));
      running--;
      return x * 2;
    });
    expect(out).toEqual(Array.from({ length: 50 }, (_, i) => i * 2));
    expect(most).toBe(4);
    expect(await mapLimit([], 4, async () => 1)).toEqual([]);
  });
});

describe("parseMail limits", () => {
  const head = "From: a@b.example\r\nTo: s@t.example\r\nSubject: s\r\nMessage-ID: <x@y>\r\nMIME-Version: 1.0\r\n";
  it(`stores at most ${MAX_ATTACHMENTS_STORED} attachments and counts the rest`, async () => {
    const parts = Array.from({ length: 150 }, (_, i) => `--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="f${i}"\r\n\r\nx\r\n`).join("");
    const m = await parseMail(enc(`${head}Content-Type: multipart/mixed; boundary="b"\r\n\r\n${parts}--b--\r\n`));
    expect(m.attachments).toHaveLength(MAX_ATTACHMENTS_STORED);
    expect(m.attachmentCount).toBe(150);
    expect(m.flags).toContain("attachments_truncated");
  });
  it(`keeps at most ${MAX_RECIPIENTS_STORED} To addresses, flagged recipients_truncated`, async () => {
    const to = Array.from({ length: MAX_RECIPIENTS_STORED + 1 }, (_, i) => `r${i}@x.example`).join(", ");
    const m = await parseMail(enc(`${head.replace("To: s@t.example", `To: ${to}`)}Content-Type: text/plain\r\n\r\nhi\r\n`));
    expect(m.to).toHaveLength(MAX_RECIPIENTS_STORED);
    expect(m.flags).toContain("recipients_truncated");
  });
  it(`flags MIME nested deeper than ${MAX_MIME_DEPTH} as mime_too_deep and keeps the raw text`, async () => {
    let body = "Content-Type: text/plain\r\n\r\ndeep\r\n";
    for (let d = MAX_MIME_DEPTH + 5; d > 0; d--) body = `Content-Type: multipart/mixed; boundary="b${d}"\r\n\r\n--b${d}\r\n${body}--b${d}--\r\n`;
    const m = await parseMail(enc(head + body));
    expect(m.flags).toEqual(expect.arrayContaining(["parse_failed", "mime_too_deep"]));
    expect(m.text).toContain("deep");
  });
  it("reads a multipart/related body: the HTML is the body, the cid image an inline attachment", async () => {
    const raw = `${head}Content-Type: multipart/related; boundary="r"\r\n\r\n--r\r\nContent-Type: text/html\r\n\r\n<p>Logo: <img src="cid:logo@x"></p>\r\n--r\r\nContent-Type: image/png\r\nContent-ID: <logo@x>\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--r--\r\n`;
    const m = await parseMail(enc(raw));
    expect(m.html).toContain('<img src="cid:logo@x">');
    expect(m.text).toBe("Logo:");
    expect(m.attachments).toHaveLength(1);
    expect(m.attachments[0]).toMatchObject({ contentId: "logo@x", inline: true });
  });
  it("keeps a quoted local part of Reply-To, and records Sender", async () => {
    const m = await parseMail(enc(`${head.replace("From: a@b.example\r\n", "")}Sender: Sec <sec@corp.example>\r\nReply-To: "john doe"@example.com\r\nContent-Type: text/plain\r\n\r\nhi\r\n`));
    expect(m.replyTo).toEqual({ addr: '"john doe"@example.com' });
    expect(m.sender).toEqual({ addr: "sec@corp.example", name: "Sec" });
    expect(m.from).toBeNull();
  });
});

describe("MIME parts handed to postal-mime", () => {
  const manyParts = (n: number) => {
    let m = 'From: a@example.com\r\nTo: b@example.com\r\nSubject: parts\r\nMessage-ID: <parts@x>\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n';
    for (let i = 0; i < n; i++) m += `--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="f${i}.bin"\r\n\r\nx\r\n`;
    return enc(`${m}--b--\r\n`);
  };
  it("cuts a message before its line past MAX_MIME_BOUNDARY_LINES that starts with '--', and leaves others whole", () => {
    expect(cutAtBoundaryLimit(manyParts(10))).toBeNull();
    const cut = cutAtBoundaryLimit(manyParts(MAX_MIME_BOUNDARY_LINES + 50))!;
    expect(new TextDecoder().decode(cut).split("\r\n--b").length - 1).toBe(MAX_MIME_BOUNDARY_LINES);
  });
  it("parses the first parts of a 10,000-part mail and flags parts_truncated (10,000 parts cost 2.3 s before)", async () => {
    const mail = await parseMail(manyParts(10_000));
    expect(mail.flags).toContain("parts_truncated");
    expect(mail.text.trim()).toBe("hello");
    expect(mail.attachmentCount).toBeLessThan(MAX_MIME_BOUNDARY_LINES);
    expect(mail.attachmentCount).toBeGreaterThan(MAX_ATTACHMENTS_STORED);
    expect(mail.flags).toContain("attachments_truncated");
  });
});
