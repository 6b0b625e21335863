// What the platform API answers (workers/http/routes/platform.ts), as the console reads it.

export type Jurisdiction = "eu" | "global";
export const JURISDICTIONS: Jurisdiction[] = ["eu", "global"];

export interface Shard {
  binding: string;
  jurisdiction: Jurisdiction;
  tenants: number;
}

export interface Usage {
  interactions: number;
  storageBytes: number;
  agents: number;
}

export interface TenantRow {
  id: string;
  name: string;
  shard: string;
  jurisdiction: Jurisdiction;
  status: "active" | "suspended" | "deleting" | string;
  statusReason: string | null;
  movingTo: string | null;
  createdAt: number;
  updatedAt: number;
  usage: Usage | null;
}

export interface TenantPage {
  tenants: TenantRow[];
  next: string | null;
}

/** A new tenant's answer: its keys and its admin's password are shown this once (stored as hashes). */
export interface Created {
  tenant: TenantRow;
  keys: { ingest: string; read: string };
  admin: { login: string; password: string };
  signIn: string;
}
