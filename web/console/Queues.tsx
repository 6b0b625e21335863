import type { ConsoleProps } from "./props.ts";

export function Queues(_props: ConsoleProps) {
  return <section><h2>Queues</h2><p class="muted">Being built.</p></section>;
}
