// Keyboard shortcuts for the desktop: Alt+letter, outside text fields, so typing never triggers one.
import { useEffect } from "preact/hooks";

const editing = (t: EventTarget | null): boolean =>
  t instanceof HTMLElement && (t.isContentEditable || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement || (t instanceof HTMLInputElement && !["checkbox", "radio", "button", "submit", "file"].includes(t.type)));

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
      if (!e.altKey || e.ctrlKey || e.metaKey || e.repeat || e.isComposing) return;
      // Never while typing: on macOS Option+letter types a character ("[", "ñ") that must not be lost.
      if (editing(e.target)) return;
      // The key's own letter where Alt leaves it alone (Windows, Linux: AZERTY's A is "a"); where Alt
      // changes it (macOS gives "å"), the key's position.
      const k = /^[a-z0-9]$/i.test(e.key) ? e.key.toLowerCase() : e.code.startsWith("Key") ? e.code.slice(3).toLowerCase() : e.code.startsWith("Digit") ? e.code.slice(5) : "";
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
