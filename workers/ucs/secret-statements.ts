// The writes of one sealed tenant secret: run on D1 by the API (./secrets.ts), rendered as SQL by
// the local scripts (scripts/sql.ts, workers/secrets/upgrade.ts). Pure: no bindings.
import { MAX_SECRETS_PER_TENANT, type Sealed } from "../secrets/crypto.ts";
import type { Statement } from "./tenant-statements.ts";

/** Creates or replaces one secret. A new name is inserted only while the tenant has fewer than
 *  MAX_SECRETS_PER_TENANT, checked in the same statement (no check-then-act between two writers):
 *  0 changes means the cap refused it. */
export const secretUpsert = (tenantId: string, name: string, sealed: Sealed, now: number): Statement => ({
  sql: `INSERT INTO tenant_secrets (tenant_id, name, ciphertext, iv, updated_at)
        SELECT ?1, ?2, ?3, ?4, ?5
        WHERE (SELECT COUNT(*) FROM tenant_secrets WHERE tenant_id = ?1) < ${MAX_SECRETS_PER_TENANT}
           OR EXISTS (SELECT 1 FROM tenant_secrets WHERE tenant_id = ?1 AND name = ?2)
        ON CONFLICT (tenant_id, name) DO UPDATE SET ciphertext = excluded.ciphertext, iv = excluded.iv, updated_at = excluded.updated_at`,
  params: [tenantId, name, sealed.ciphertext, sealed.iv, now],
});

/** Deletes one secret unless the tenant's stored config names it (numbers[].secret,
 *  email.transport.secret: as config/secret-refs.ts reads them), in one statement, so a config
 *  saved meanwhile is seen. 0 changes: unset, or still named. */
export const secretDeleteUnused = (tenantId: string, name: string): Statement => ({
  sql: `DELETE FROM tenant_secrets WHERE tenant_id = ?1 AND name = ?2
        AND NOT EXISTS (
          SELECT 1 FROM tenants t WHERE t.id = ?1 AND (
            json_extract(t.config, '$.email.transport.secret') = ?2
            OR EXISTS (SELECT 1 FROM json_each(t.config, '$.numbers') n WHERE json_extract(n.value, '$.secret') = ?2)))`,
  params: [tenantId, name],
});
