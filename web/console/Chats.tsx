import type { ConsoleProps } from "./props.ts";

export function Chats(_props: ConsoleProps) {
  return <section><h2>Chats</h2><p class="muted">Being built.</p></section>;
}
