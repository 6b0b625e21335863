import type { ConsoleProps } from "./props.ts";

export function Dashboard(_props: ConsoleProps) {
  return <section><h2>Dashboard</h2><p class="muted">Being built.</p></section>;
}
