// What every section editor gets from the admin shell.
import type { Located, Target } from "./issues.ts";
import type { Draft } from "./model.ts";

export interface SectionProps {
  draft: Draft;
  update: (fn: (d: Draft) => Draft) => void;
  /** The last refused save's issues in this section. */
  issues: Located[];
  jump: (t: Target) => void;
  toast: (text: string, kind?: "info" | "error") => void;
}

/** For the form-edited lists: which item the editor below the table shows. */
export interface Selection {
  selected: number | null;
  select: (i: number | null) => void;
}

/** The selection after removing item `removed`: cleared if it was the one, shifted if it came after. */
export const afterRemove = (selected: number | null, removed: number): number | null =>
  selected === null || selected === removed ? null : selected > removed ? selected - 1 : selected;
