// Keyboard shortcuts for the desktop. Alt+letter so typing in a reply never triggers one.
import { useEffect } from "preact/hooks";

export const SHORTCUTS: [string, string][] = [
  ["Alt+A", "Accept the oldest offer"],
  ["Alt+R", "Reject the oldest offer"],
  ["Alt+Y", "Ready on every media"],
  ["Alt+N", "Not ready (with the chosen reason)"],
  ["Alt+1…9", "Open work in progress by its number"],
  ["Alt+D", "Mark the open work done"],
  ["Alt+F", "Search the contact history"],
  ["Alt+K", "Show these shortcuts"],
];

/** handlers by key: a letter ("a") or a digit ("1"). */
export function useShortcuts(handlers: Record<string, () => void>): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!e.altKey || e.ctrlKey || e.metaKey) return;
      // e.code, not e.key: Alt changes the character on some layouts (macOS).
      const k = e.code.startsWith("Key") ? e.code.slice(3).toLowerCase() : e.code.startsWith("Digit") ? e.code.slice(5) : "";
      const run = handlers[k];
      if (run) {
        e.preventDefault();
        run();
      }
    };
    addEventListener("keydown", onKey);
    return () => removeEventListener("keydown", onKey);
  });
}
