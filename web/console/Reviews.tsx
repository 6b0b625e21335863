import type { ConsoleProps } from "./props.ts";

export function Reviews(_props: ConsoleProps) {
  return <section><h2>Reviews</h2><p class="muted">Being built.</p></section>;
}
