// The Content Analyzer's shapes as the API answers them: shared by the Worker and the console. Types only.

export type ModelState = "training" | "ready" | "failed";

export interface ModelRow {
  version: number;
  state: ModelState;
  createdAt: number;
  createdBy: string | null;
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

export interface ClassifierSettings {
  activeVersion: number | null;
  autoPrecision: number;
  outOfScopeBelow: number;
  autoRespondAt: number | null;
  routeAt: number | null;
  suggestAt: number;
}

/** The confidences each action needs, as this tenant has them now. */
export interface ActionThresholds {
  /** null: never reply automatically (tested precision never reached the target). */
  autoRespond: number | null;
  route: number;
  suggest: number;
  outOfScopeBelow: number;
}
