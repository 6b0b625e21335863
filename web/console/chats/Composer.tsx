// What a coaching or barging supervisor writes: Enter sends, Shift+Enter starts a new line.
import { useState } from "preact/hooks";

export function Composer(props: { visibility: "all" | "staff"; disabled: boolean; onSend: (text: string) => void }) {
  const [text, setText] = useState("");
  const send = (e?: Event) => {
    e?.preventDefault();
    const t = text.trim();
    if (!t || props.disabled) return;
    props.onSend(t);
    setText("");
  };
  const staff = props.visibility === "staff";
  return (
    <form onSubmit={send} class={staff ? "composer staff" : "composer"}>
      <textarea
        name="message"
        aria-label={staff ? "Coach the agent (staff only)" : "Message everyone, the customer too"}
        placeholder={staff ? "Coach the agent: only staff see this" : "Write to everyone, the customer too"}
        value={text}
        maxLength={4000}
        disabled={props.disabled}
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.shiftKey && !e.isComposing) send(e);
        }}
      />
      <button type="submit" class="primary" disabled={props.disabled || !text.trim()}>
        {staff ? "Coach" : "Send"}
      </button>
    </form>
  );
}
