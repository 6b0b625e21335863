// postal-mime's entity table is cut to what mail uses (workers/shims/html-entities.ts, put in place
// by wrangler.toml's and vitest.config.ts's [alias]): the plain text it derives from HTML-only mail
// still decodes Latin-1 names, common typography and numeric references; a rare name stays as written.
import PostalMime from "postal-mime";
import { describe, expect, it } from "vitest";

describe("the trimmed entity table", () => {
  it("decodes what mail uses, and leaves a rare name as written", async () => {
    // A plain part and an HTML part side by side: postal-mime's text body converts the HTML one.
    const raw = [
      "From: a@b.example", "To: c@d.example", "Subject: x", 'Content-Type: multipart/mixed; boundary="b"', "",
      "--b", "Content-Type: text/plain; charset=utf-8", "", "Hello", "",
      "--b", "Content-Type: text/html; charset=utf-8", "", "<p>Caf&eacute; &ndash; 5&nbsp;&euro; &copy; &#258;&#x102; &Abreve;</p>", "",
      "--b--", "",
    ].join("\r\n");
    const m = await PostalMime.parse(raw);
    expect(m.text).toContain("Café – 5\u00a0€ © ĂĂ &Abreve;");
  });
});
