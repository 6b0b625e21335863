// SMS encoding and segment count, shown to the agent before sending. Pure. A text that fits the
// GSM 03.38 alphabet goes as GSM-7: 160 characters in one part, 153 per part when concatenated
// (the rest carries the concatenation header), characters of the extension table counting twice.
// Anything else goes as UCS-2: 70 UTF-16 units in one part, 67 per part; a character outside the
// basic plane (most emoji) takes two units. A multi-part message never splits an escape or a pair.

const GSM_BASIC =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM_EXTENSION = "^{}\\[~]|€\f";

const basic = new Set(GSM_BASIC);
const extension = new Set(GSM_EXTENSION);

export type SmsEncoding = "GSM-7" | "UCS-2";

export interface SegmentInfo {
  encoding: SmsEncoding;
  /** Septets (GSM-7) or UTF-16 units (UCS-2) the text takes. */
  units: number;
  segments: number;
  /** Units per part at this length: 160/153 or 70/67. */
  perSegment: number;
  /** Units still free in the last part. */
  remaining: number;
  /** Characters that forced UCS-2, at most 10, for the agent to see why. */
  nonGsm: string[];
}

export function isGsm7(text: string): boolean {
  for (const ch of text) if (!basic.has(ch) && !extension.has(ch)) return false;
  return true;
}

/** Each character's size in units, in order. */
function unitsOf(text: string, enc: SmsEncoding): number[] {
  const out: number[] = [];
  for (const ch of text) out.push(enc === "GSM-7" ? (extension.has(ch) ? 2 : 1) : ch.length);
  return out;
}

export function segmentInfo(text: string): SegmentInfo {
  const gsm = isGsm7(text);
  const encoding: SmsEncoding = gsm ? "GSM-7" : "UCS-2";
  const sizes = unitsOf(text, encoding);
  const units = sizes.reduce((a, b) => a + b, 0);
  const single = gsm ? 160 : 70;
  const multi = gsm ? 153 : 67;
  const nonGsm = gsm ? [] : [...new Set([...text].filter((ch) => !basic.has(ch) && !extension.has(ch)))].slice(0, 10);
  if (units <= single) return { encoding, units, segments: units === 0 ? 0 : 1, perSegment: single, remaining: single - units, nonGsm };
  // Parts are filled character by character, so an escape (2 septets) or a surrogate pair never straddles two parts.
  let segments = 1;
  let used = 0;
  for (const n of sizes) {
    if (used + n > multi) {
      segments++;
      used = 0;
    }
    used += n;
  }
  return { encoding, units, segments, perSegment: multi, remaining: multi - used, nonGsm };
}
