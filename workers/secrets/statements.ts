// The upsert of one sealed tenant secret: run on D1 by the API (./store.ts), rendered as SQL by the
// local scripts (scripts/sql.ts). Pure.
import type { Statement } from "../ucs/tenant-statements.ts";
import type { Sealed } from "./crypto.ts";

export const secretUpsert = (tenantId: string, name: string, sealed: Sealed, now: number): Statement => ({
  sql: `INSERT INTO tenant_secrets (tenant_id, name, ciphertext, iv, updated_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (tenant_id, name) DO UPDATE SET ciphertext = excluded.ciphertext, iv = excluded.iv, updated_at = excluded.updated_at`,
  params: [tenantId, name, sealed.ciphertext, sealed.iv, now],
});
