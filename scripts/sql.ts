// Renders D1 statements as a SQL file for `wrangler d1 execute --file` (the demo loader, the bench).
import type { Statement } from "../workers/ucs/tenant-statements.ts";

const lit = (v: string | number | null) => (v === null ? "NULL" : typeof v === "number" ? String(v) : `'${v.replace(/'/g, "''")}'`);

export function renderSql(statements: Statement[]): string {
  return statements
    .map((s) => {
      let i = 0;
      return s.sql.replace(/\?/g, () => lit(s.params[i++] ?? null)).replace(/\s+/g, " ").trim() + ";";
    })
    .join("\n");
}
