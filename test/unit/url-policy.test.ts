// The outbound URL policy (issue 12, item 1): where a tenant's credentials may be sent. Pure.
import { describe, expect, it } from "vitest";
import { outboundUrlProblem } from "../../workers/outbound/url-policy.ts";

describe("outbound URL policy", () => {
  it("accepts an https URL on a public DNS name, with a port and a path", () => {
    for (const url of ["https://mail.provider.example.com/send", "https://api.sendgrid.com/v3/mail/send", "https://mail.example.com:8443/v1/send?x=1", "https://MAIL.Provider.Example.com./send"])
      expect(outboundUrlProblem(url), url).toBeNull();
  });

  it("refuses what is not https", () => {
    for (const url of ["http://mail.provider.example/send", "ftp://mail.provider.example/", "file:///etc/passwd", "data:text/plain,x", "javascript:alert(1)"])
      expect(outboundUrlProblem(url), url).toMatch(/https/);
  });

  it("refuses what is not a URL", () => {
    for (const url of ["", "mail.provider.example/send", "https://", "https://a b/"]) expect(outboundUrlProblem(url), url).toMatch(/not a URL/);
  });

  it("refuses every IP literal, however it is written, and says which kind it is", () => {
    const cases: [string, RegExp][] = [
      ["https://127.0.0.1/", /loopback/],
      ["https://127.1/", /loopback/],
      ["https://2130706433/", /loopback/],
      ["https://0x7f000001/", /loopback/],
      ["https://0x7f.0.0.1/", /loopback/],
      ["https://0177.0.0.1/", /loopback/],
      ["https://[::1]/", /loopback/],
      ["https://[0:0:0:0:0:0:0:1]:443/", /loopback/],
      ["https://[::ffff:127.0.0.1]/", /loopback/],
      ["https://10.0.0.5/", /private/],
      ["https://172.16.3.4/", /private/],
      ["https://192.168.1.1/", /private/],
      ["https://169.254.169.254/latest/meta-data/", /link-local/],
      ["https://[fe80::1]/", /link-local/],
      ["https://[fc00::1]/", /private/],
      ["https://[fd12:3456::1]/", /private/],
      ["https://0.0.0.0/", /unspecified|this network/],
      ["https://[::]/", /unspecified/],
      ["https://100.64.0.1/", /shared/],
      ["https://8.8.8.8/", /IP address/],
      ["https://[2001:4860:4860::8888]/", /IP address/],
    ];
    for (const [url, kind] of cases) {
      const p = outboundUrlProblem(url);
      expect(p, url).toMatch(/IP address/);
      expect(p, url).toMatch(kind);
    }
  });

  it("refuses local and internal names", () => {
    for (const url of ["https://localhost/", "https://LOCALHOST./", "https://app.localhost/", "https://smtp.corp.internal/", "https://printer.local/", "https://nas.home.arpa/", "https://metadata/", "https://mail/"])
      expect(outboundUrlProblem(url), url).toMatch(/local|internal|public DNS name/);
  });

  it("refuses credentials in the URL", () => {
    expect(outboundUrlProblem("https://user:pw@mail.provider.example/")).toMatch(/user name or password/);
  });

  it("allows the one configured dev host, by name, over http too; nothing else because of it", () => {
    const devHost = "mailpit.dev.test:8025";
    expect(outboundUrlProblem("http://mailpit.dev.test:8025/send", { devHost })).toBeNull();
    expect(outboundUrlProblem("https://MAILPIT.dev.test:8025/send", { devHost })).toBeNull();
    // Another port, another host, or no dev host configured: the usual rules.
    expect(outboundUrlProblem("http://mailpit.dev.test:9000/send", { devHost })).toMatch(/https/);
    expect(outboundUrlProblem("http://other.dev.test:8025/send", { devHost })).toMatch(/https/);
    expect(outboundUrlProblem("http://mailpit.dev.test:8025/send")).toMatch(/https/);
    expect(outboundUrlProblem("http://mailpit.dev.test:8025/send", { devHost: "" })).toMatch(/https/);
    // A dev host given without a port matches that name on any port; a local name may be the dev host.
    expect(outboundUrlProblem("http://localhost:8025/send", { devHost: "localhost" })).toBeNull();
    expect(outboundUrlProblem("http://127.0.0.1:8025/send", { devHost: "localhost" })).not.toBeNull();
    expect(outboundUrlProblem("https://127.0.0.1:8025/send", { devHost: "localhost" })).toMatch(/IP address/);
  });

  // Follow-up review of item 1: only one trailing dot was stripped, special-use names passed, and a
  // dev host written with its default port did not match.
  it("refuses local names however many trailing dots they carry, and names with empty labels", () => {
    for (const url of ["https://localhost../", "https://example.internal../", "https://foo.local..", "https://foo.local.../x", "https://LOCALHOST.../"])
      expect(outboundUrlProblem(url), url).toMatch(/local|internal/);
    for (const url of ["https://mail..provider.example.com/", "https://.provider.example.com/"])
      expect(outboundUrlProblem(url), url).toMatch(/empty label/);
  });

  it("refuses special-use names (RFC 6761 and kin): .test, .invalid, .example, .onion, .arpa, .corp, .home", () => {
    for (const url of ["https://mail.test/", "https://a.b.invalid/", "https://example/", "https://mail.example/", "https://x.onion/", "https://1.0.0.127.in-addr.arpa/", "https://ip6.arpa/", "https://mail.corp/", "https://router.home/", "https://router.home./"])
      expect(outboundUrlProblem(url), url).toMatch(/special-use|local or internal/);
    // home.arpa stays refused as a local name; public names that merely contain these words pass.
    expect(outboundUrlProblem("https://nas.home.arpa/")).toMatch(/local|internal|special-use/);
    for (const url of ["https://test.com/", "https://example.com/", "https://mail.example.org/", "https://home.depot.com/", "https://corp.example.net/"])
      expect(outboundUrlProblem(url), url).toBeNull();
  });

  it("matches a dev host written with its scheme's default port", () => {
    expect(outboundUrlProblem("https://mailpit.dev.test/send", { devHost: "mailpit.dev.test:443" })).toBeNull();
    expect(outboundUrlProblem("http://mailpit.dev.test/send", { devHost: "mailpit.dev.test:80" })).toBeNull();
    expect(outboundUrlProblem("https://mailpit.dev.test:443/send", { devHost: "mailpit.dev.test:443" })).toBeNull();
    // The default port of the other scheme is not this one's.
    expect(outboundUrlProblem("http://mailpit.dev.test/send", { devHost: "mailpit.dev.test:443" })).not.toBeNull();
    // Trailing dots on either side do not matter.
    expect(outboundUrlProblem("http://mailpit.dev.test./send", { devHost: "mailpit.dev.test" })).toBeNull();
  });
});
