// What the console reads from the Content Analyzer API (workers/http/routes/classifier.ts).
export interface CategoryCount {
  id: string;
  name: string;
  parent: string | null;
  imported: number;
  agent: number;
  responses: number;
}

export interface Version {
  version: number;
  state: "training" | "ready" | "failed";
  createdAt: number;
  finishedAt: number | null;
  activatedAt: number | null;
  examples: number;
  heldOut: number;
  labels: string[];
  progress: number;
  trainMs: number | null;
  bytes: number | null;
  error: string | null;
}

export interface Thresholds {
  autoRespond: number | null;
  route: number;
  suggest: number;
  outOfScopeBelow: number;
}

export interface Settings {
  activeVersion: number | null;
  autoPrecision: number;
  outOfScopeBelow: number;
  autoRespondAt: number | null;
  routeAt: number | null;
  suggestAt: number;
}

export interface Overview {
  categories: CategoryCount[];
  orphaned: { category: string; imported: number; agent: number }[];
  versions: Version[];
  settings: Settings;
  running: { version: number; slices: number } | null;
  thresholds: Thresholds | null;
}

export interface CurvePoint {
  threshold: number;
  precision: number;
  recall: number;
  coverage: number;
}

export interface Report {
  examples: number;
  accuracy: number;
  top3: number;
  macro: { precision: number; recall: number; f1: number };
  categories: { id: string; precision: number; recall: number; f1: number; support: number }[];
  curve: CurvePoint[];
  confusions: { actual: string; predicted: string; count: number; rate: number }[];
  outOfScope: { examples: number; recall: number | null };
  calibrationError: number;
  thresholds: { autoRespond: number | null; route: number };
  slices?: number;
  modelBytes?: number;
  bytesPerCategory?: number;
}

export const pct = (x: number | null | undefined) => (x === null || x === undefined ? "–" : `${(x * 100).toFixed(1)}%`);
