// Where a field sits in an item's JSON text, as the admin typed it (any formatting), so a jump to
// `steps[0].targets[0].skills` can select that value inside the textarea. Pure.
import { splitPath } from "./issues.ts";

export interface Range {
  start: number;
  end: number;
}

/** The range of the value at `path` in valid JSON `text`, or null if the text does not hold it. */
export function valueRange(text: string, path: (string | number)[]): Range | null {
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const str = (): string => {
    let out = "";
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === "\\") i++;
      out += text[i] ?? "";
      i++;
    }
    i++;
    return out;
  };
  /** Skips one value; `rest` is what is left of the path if this value lies on it, else null. */
  const value = (rest: (string | number)[] | null): Range | null => {
    ws();
    const start = i;
    let found: Range | null = null;
    const c = text[i];
    if (c === "{" || c === "[") {
      const close = c === "{" ? "}" : "]";
      i++;
      ws();
      for (let n = 0; i < text.length && text[i] !== close; n++) {
        let key: string | number = n;
        if (c === "{") {
          ws();
          key = str();
          ws();
          i++; // ':'
        }
        const r = value(rest && rest.length > 0 && rest[0] === key ? rest.slice(1) : null);
        found ??= r;
        ws();
        if (text[i] === ",") i++;
        ws();
      }
      i++;
    } else if (c === '"') str();
    else while (i < text.length && !/[\s,\]}]/.test(text[i]!)) i++;
    return rest && rest.length === 0 ? { start, end: i } : found;
  };
  try {
    JSON.parse(text);
  } catch {
    return null;
  }
  return value(path);
}

/** The range of `field` (`steps[0].skills`), else of the nearest enclosing value the text has. */
export function fieldRange(text: string, field: string): Range | null {
  const segs = splitPath(field);
  for (let n = segs.length; n > 0; n--) {
    const r = valueRange(text, segs.slice(0, n));
    if (r) return r;
  }
  return null;
}
