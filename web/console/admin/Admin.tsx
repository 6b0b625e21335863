import type { ConsoleProps } from "../props.ts";

export function Admin(_props: ConsoleProps) {
  return <section><h2>Admin</h2><p class="muted">Being built.</p></section>;
}
