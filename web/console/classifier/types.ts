// What the console reads from the Content Analyzer API (workers/http/routes/classifier.ts): the
// Worker's own types where it has them.
import type { ActionThresholds as Thresholds, ClassifierSettings as Settings, ModelRow as Version } from "../../../workers/analyzer/api-types.ts";
import type { CurvePoint, Report as TestReport } from "../../../workers/analyzer/report.ts";

export type { CurvePoint, Settings, Thresholds, Version };

/** The test report as stored with a version: the report, and what training added to it. */
export type Report = TestReport & { slices?: number; modelBytes?: number; bytesPerCategory?: number };

export interface CategoryCount {
  id: string;
  name: string;
  parent: string | null;
  imported: number;
  agent: number;
  responses: number;
}

export interface Overview {
  categories: CategoryCount[];
  orphaned: { category: string; imported: number; agent: number }[];
  versions: Version[];
  settings: Settings;
  thresholds: Thresholds | null;
}

export const pct = (x: number | null | undefined) => (x === null || x === undefined ? "–" : `${(x * 100).toFixed(1)}%`);
