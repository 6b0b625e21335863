import { describe, expect, it } from "vitest";
import { sanitizeHtml } from "../../workers/email/sanitize.ts";

interface Seen {
  tag: string;
  attrs: Record<string, string>;
}

/** Re-reads the sanitized output with the runtime's tokenizer: what a browser would find in it. */
async function inspect(html: string): Promise<{ elements: Seen[]; text: string }> {
  const elements: Seen[] = [];
  let text = "";
  await new HTMLRewriter()
    .on("*", { element: (el) => void elements.push({ tag: el.tagName, attrs: Object.fromEntries([...el.attributes].map(([k, v]) => [k!, v!])) }) })
    .onDocument({ text: (t) => void (text += t.text) })
    .transform(new Response(html))
    .text();
  return { elements, text };
}

const SAFE_URL = /^(?:https?:|mailto:|tel:|cid:|\/parts\/)/i;

/** Fails if anything in the output could run script or leave the allow-lists. */
async function expectSafe(html: string): Promise<string> {
  const out = await sanitizeHtml(html, { cid: (id) => (id === "known@x" ? "/parts/known" : null) });
  const { elements } = await inspect(out);
  for (const el of elements) {
    expect(["script", "style", "iframe", "svg", "math", "object", "embed", "base", "meta", "link", "form", "input", "button", "textarea", "frame", "frameset", "xmp", "noscript", "template"]).not.toContain(el.tag);
    for (const [name, value] of Object.entries(el.attrs)) {
      expect(name.startsWith("on"), `${name} on <${el.tag}> in ${out}`).toBe(false);
      if (name === "href" || name === "src") expect(value, out).toMatch(SAFE_URL);
      expect(["id", "class", "name", "srcset", "formaction", "action", "background", "content", "http-equiv"]).not.toContain(name);
    }
  }
  // Whatever survives as text or inside a quoted value is inert; still, no raw script tag may appear at all.
  expect(out).not.toMatch(/<script/i);
  return out;
}

describe("sanitizeHtml removes script vectors", () => {
  it("drops script tags with their content", async () => {
    expect(await expectSafe("<p>hi</p><script>alert(1)</script><SCRIPT src=//evil/x.js></SCRIPT>!")).toBe("<p>hi</p>!");
  });
  it("removes event handlers and relative or data image sources", async () => {
    expect(await expectSafe("<img src=x onerror=alert(1)>")).toBe("<img>");
    expect(await expectSafe('<img src="https://cdn.example/a.png" ONLOAD="alert(1)" alt="A">')).toBe('<img src="https://cdn.example/a.png" alt="A">');
    expect(await expectSafe('<img src="data:image/svg+xml;base64,PHN2Zz4=">')).toBe("<img>");
    expect(await expectSafe('<details open ontoggle="alert(1)"><summary>s</summary></details>')).toBe("<details><summary>s</summary></details>");
  });
  it.each([
    ["javascript:alert(1)"],
    ["JaVaScRiPt:alert(1)"],
    ["jav&#x61;script:alert(1)"],
    ["jav&#97;script:alert(1)"],
    ["&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)"],
    ["&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A;alert(1)"],
    ["java\nscript:alert(1)"],
    ["java&Tab;script:alert(1)"],
    ["java&#x09;script:alert(1)"],
    ["javascript&colon;alert(1)"],
    ["  \u0001javascript:alert(1)"],
    ["vbscript:msgbox(1)"],
    ["data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="],
    ["//evil.example/phish"],
    ["/api/v1/me"],
  ])("removes href %j", async (href) => {
    const out = await expectSafe(`<a href="${href}">click</a>`);
    expect(out).toBe("<a>click</a>");
  });
  it("drops svg, math, iframe, object, embed, forms and their content", async () => {
    expect(await expectSafe("<svg onload=alert(1)><circle r=1 /></svg>ok")).toBe("ok");
    expect(await expectSafe("<svg><script>alert(1)</script></svg>ok")).toBe("ok");
    expect(await expectSafe('<iframe src="javascript:alert(1)">inner</iframe>ok')).toBe("ok");
    expect(await expectSafe('<object data="x.swf"><embed src="x.swf"></object>ok')).toBe("ok");
    expect(await expectSafe('<form action="https://evil"><input name=pw><button formaction="javascript:alert(1)">Go</button></form>ok')).toBe("ok");
    expect(await expectSafe("<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>ok")).toBe("ok");
  });
  it("drops base and meta refresh", async () => {
    expect(await expectSafe('<base href="https://evil.example/"><a href="https://ok.example/">x</a>')).toBe(
      '<a href="https://ok.example/" target="_blank" rel="noopener noreferrer nofollow">x</a>',
    );
    expect(await expectSafe('<meta http-equiv="refresh" content="0;url=javascript:alert(1)"><p>x</p>')).toBe("<p>x</p>");
    expect(await expectSafe('<link rel="stylesheet" href="https://evil/x.css"><p>x</p>')).toBe("<p>x</p>");
  });
  it.each([
    ["width: expression(alert(1))"],
    ["background: url(javascript:alert(1))"],
    ["background-image: URL('https://tracker.example/p.gif')"],
    ["behavior: url(x.htc)"],
    ["-moz-binding: url(x.xml#xss)"],
    ["@import 'x.css'"],
    ["x: \\65 xpression(alert(1))"],
    ["x: exp/**/ression(alert(1))"],
    ["background: u&#114;l(x)"],
    ["background: u\\rl(x)"],
  ])("removes style %j", async (style) => {
    const out = await expectSafe(`<div style="${style}">x</div>`);
    expect(out).toBe("<div>x</div>");
  });
  it("cannot be tricked into assembling a tag from text around removed ones", async () => {
    const out = await expectSafe("<<x>script>alert(1)<</x>/script>");
    expect(out).toBe("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(await expectSafe("<<!-- -->img src=x onerror=alert(1)>")).toBe("&lt;img src=x onerror=alert(1)&gt;");
  });
  it("neutralises raw-text and mutation tricks", async () => {
    expect(await expectSafe("<xmp><script>alert(1)</script></xmp>ok")).toBe("ok");
    await expectSafe('<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>');
    await expectSafe("<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>");
    await expectSafe("<svg></p><style><a id=\"</style><img src=1 onerror=alert(1)>\">");
    await expectSafe('<a href="https://x.example/?q=&quot;><script>alert(1)</script>">x</a>');
    await expectSafe('<title><img src=x onerror=alert(1)></title><textarea><img src=x onerror=alert(1)></textarea>');
  });
  it("removes comments, including conditional ones", async () => {
    expect(await expectSafe("<p>a<!-- secret -->b</p><!--[if IE]><script>alert(1)</script><![endif]-->")).toBe("<p>ab</p>");
  });
  it("escapes a URL so it cannot break out of its attribute", async () => {
    const out = await expectSafe('<a href="https://x.example/?q=&quot;><img src=x onerror=alert(1)>">x</a>');
    const { elements } = await inspect(out);
    expect(elements.map((e) => e.tag)).toEqual(["a"]);
    expect(elements[0]!.attrs.href).toBe("https://x.example/?q=&quot;&gt;&lt;img src=x onerror=alert(1)&gt;");
  });
});

describe("sanitizeHtml keeps normal email", () => {
  it("keeps tables, inline styles, fonts and layout attributes", async () => {
    const html =
      '<table width="600" cellpadding="0" cellspacing="0" border="0" bgcolor="#ffffff" align="center" style="border-collapse:collapse">' +
      '<tr><td valign="top" colspan="2" style="font-family: Arial, sans-serif; color: #333; padding: 8px">' +
      '<font face="Arial" size="2" color="#333333">Hello <b>Pat</b> &amp; team&nbsp;&lt;3</font></td></tr></table>' +
      "<center><h2>Thanks</h2></center><ul><li>one</li></ul><blockquote><pre><code>x &lt; y</code></pre></blockquote><hr><br>";
    expect(await sanitizeHtml(html)).toBe(html);
  });
  it("keeps safe links and marks them to open apart", async () => {
    expect(await sanitizeHtml('<a href="https://example.com/a?b=1&amp;c=2" target="_self" rel="opener" title="t">x</a>')).toBe(
      '<a href="https://example.com/a?b=1&amp;c=2" title="t" target="_blank" rel="noopener noreferrer nofollow">x</a>',
    );
    expect(await sanitizeHtml('<a href="mailto:pat@example.com">m</a><a href="tel:+441234">t</a>')).toBe(
      '<a href="mailto:pat@example.com" target="_blank" rel="noopener noreferrer nofollow">m</a>' +
        '<a href="tel:+441234" target="_blank" rel="noopener noreferrer nofollow">t</a>',
    );
    // a name-only anchor gets no target
    expect(await sanitizeHtml("<a>plain</a>")).toBe("<a>plain</a>");
  });
  it("rewrites cid images through the resolver, dropping unknown ones", async () => {
    const seen: string[] = [];
    const cid = (id: string) => (seen.push(id), id === "image001.png@01D9A1B2.3C4D5E60" ? "/api/v1/interactions/i1/parts/p1/content?a=1&b=2" : null);
    expect(await sanitizeHtml('<img src="cid:image001.png@01D9A1B2.3C4D5E60" alt="logo" width="120"><img src="CID:missing@x" alt="gone">', { cid })).toBe(
      '<img src="/api/v1/interactions/i1/parts/p1/content?a=1&amp;b=2" alt="logo" width="120"><img alt="gone">',
    );
    expect(seen).toEqual(["image001.png@01D9A1B2.3C4D5E60", "missing@x"]);
    // percent-encoded content ids (RFC 2392) are decoded before lookup
    expect(await sanitizeHtml('<img src="cid:a%40b">', { cid: (id) => (id === "a@b" ? "/p/ab" : null) })).toBe('<img src="/p/ab">');
    // without a resolver, cid: is kept as is (harmless, it loads nothing)
    expect(await sanitizeHtml('<img src="cid:x@y">')).toBe('<img src="cid:x@y">');
  });
  it("removes unknown tags but keeps their text, and drops id, class and the document shell", async () => {
    expect(
      await sanitizeHtml('<!DOCTYPE html><html><head><title>T</title><style>p{color:red}</style></head><body bgcolor="#fff"><p class="MsoNormal" id="x">Hi<o:p></o:p> <custom-tag>there</custom-tag></p></body></html>'),
    ).toBe("<p>Hi there</p>");
  });
  it("keeps a safe style", async () => {
    expect(await sanitizeHtml('<p style="color: red; font-size: 12px; margin:0 0 8px">x</p>')).toBe('<p style="color: red; font-size: 12px; margin:0 0 8px">x</p>');
  });
});
