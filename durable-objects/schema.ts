// Objects create their tables once: a warm start reads one row instead of re-running the DDL.
export function hasSchema(sql: SqlStorage, version: string): boolean {
  try {
    return sql.exec<{ v: string }>("SELECT v FROM kv WHERE k = 'schema'").toArray()[0]?.v === version;
  } catch {
    return false; // no kv table yet
  }
}
