// Where a tenant's credentials may be sent (the http mail transport's URL): https to a public DNS
// name. IP literals are refused in every form (the WHATWG URL parser has already turned decimal,
// hex, octal and short IPv4 forms into dotted quads), as are local and internal names. Local
// development may name one dev host (DEV_OUTBOUND_HOST, unset in production), which may be http.
// Checked when the config is saved and again before each send. Pure: no bindings.
//
// Not covered here: a public name that resolves to a private address (DNS rebinding). A deployed
// Worker's fetch cannot reach private networks; under `wrangler dev` it can, hence the dev host rule.

export interface OutboundPolicy {
  /** The one host local development may post to, as `name` (any port) or `name:port`. */
  devHost?: string;
}

/** Longest outbound URL a config may hold (characters). */
export const MAX_URL_CHARS = 2048;

/** Suffixes (and whole names) that never name a public host. */
export const LOCAL_SUFFIXES = ["localhost", "local", "internal", "localdomain", "home.arpa", "lan", "intranet"] as const;

/** Special-use and private-use names (RFC 6761, RFC 7686 .onion, .arpa's reverse zones, and the
 *  .corp/.home names ICANN keeps out of the root): never a provider's public host. */
export const SPECIAL_USE_SUFFIXES = ["test", "invalid", "example", "onion", "arpa", "corp", "home"] as const;

const endsWith = (host: string, suffix: string) => host === suffix || host.endsWith(`.${suffix}`);
/** A name without its trailing dots (a fully qualified "name." is the same host; "name.." too, to resolvers). */
const trimDots = (s: string) => s.replace(/\.+$/, "");
const DEFAULT_PORT: Record<string, string> = { "http:": "80", "https:": "443" };

function ipv4Kind(a: number, b: number): string {
  if (a === 0) return "unspecified (this network)";
  if (a === 127) return "loopback";
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return "private";
  if (a === 169 && b === 254) return "link-local";
  if (a === 100 && b >= 64 && b <= 127) return "shared (carrier-grade NAT)";
  if (a >= 224) return "multicast or reserved";
  return "public";
}

/** Expands an IPv6 literal (no brackets) to its eight 16-bit groups, or null. */
function ipv6Groups(s: string): number[] | null {
  let text = s;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const part = (h: string) => (h ? h.split(":").map((g) => Number.parseInt(g, 16)) : []);
  const head = part(halves[0]!);
  const tail = halves.length === 2 ? part(halves[1]!) : [];
  const fill = 8 - head.length - tail.length;
  if (fill < 0 || (halves.length === 1 && fill !== 0)) return null;
  const groups = [...head, ...Array<number>(fill).fill(0), ...tail];
  return groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}

function ipv6Kind(s: string): string {
  const g = ipv6Groups(s);
  if (!g) return "IPv6";
  if (g.every((x) => x === 0)) return "unspecified";
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return "loopback";
  // ::ffff:a.b.c.d, an IPv4 address in IPv6 clothing.
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return ipv4Kind(g[6]! >> 8, g[6]! & 0xff);
  if ((g[0]! & 0xfe00) === 0xfc00) return "private (unique local)";
  if ((g[0]! & 0xffc0) === 0xfe80) return "link-local";
  if ((g[0]! & 0xff00) === 0xff00) return "multicast";
  return "public";
}

const isDevHost = (u: URL, devHost: string | undefined): boolean => {
  const want = devHost?.trim().toLowerCase();
  if (!want) return false;
  // "name:port" names one port; "name" any port. ("[::1]:8025" has a port; "[::1]" has not.)
  // The URL parser drops a scheme's default port, so "name:443" matches https://name/.
  const m = /^(.*):(\d+)$/.exec(want);
  const host = trimDots(u.hostname);
  if (!m) return host === trimDots(want);
  const port = u.port || DEFAULT_PORT[u.protocol] || "";
  return host === trimDots(m[1]!) && port === String(Number(m[2]));
};

/** Why a URL may not receive a tenant's credentials, or null when it may. */
export function outboundUrlProblem(raw: string, policy: OutboundPolicy = {}): string | null {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return `'${raw.slice(0, 200)}' is not a URL`;
  }
  if (isDevHost(u, policy.devHost) && (u.protocol === "https:" || u.protocol === "http:")) return null;
  if (u.protocol !== "https:") return `use https: (${u.protocol} is refused)`;
  if (u.username || u.password) return "put no user name or password in the URL (the transport's secret is the credential)";
  const host = trimDots(u.hostname);
  if (!host) return `'${raw.slice(0, 200)}' is not a URL`;
  if (host.startsWith("[")) return `'${host}' is an IP address (${ipv6Kind(host.slice(1, -1))}); use the provider's DNS name`;
  const v4 = /^(\d+)\.(\d+)\.\d+\.\d+$/.exec(host);
  if (v4) return `'${host}' is an IP address (${ipv4Kind(Number(v4[1]), Number(v4[2]))}); use the provider's DNS name`;
  if (host.split(".").includes("")) return `'${host}' has an empty label ('..' or a leading '.'); use the provider's DNS name`;
  for (const s of LOCAL_SUFFIXES) if (endsWith(host, s)) return `'${host}' is a local or internal name (.${s}); use the provider's public DNS name`;
  for (const s of SPECIAL_USE_SUFFIXES) if (endsWith(host, s)) return `'${host}' is a special-use name (.${s}), not a public host; use the provider's public DNS name`;
  if (!host.includes(".")) return `'${host}' is not a public DNS name (no domain)`;
  return null;
}
