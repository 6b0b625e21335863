// Transferring work: the dialog, and its picker of a queue that takes this media or a colleague.
// Values are "queue:NAME" or "agent:ID"; transferBody turns one into the API's body.
import { useState } from "preact/hooks";
import type { Media } from "../shared/types.ts";
import { Modal } from "../shared/ui.tsx";
import type { DeskProps } from "./props.ts";

export function TransferTarget(props: Pick<DeskProps, "directory" | "session"> & { media: Media; value: string; onChange: (v: string) => void }) {
  return (
    <select aria-label="Transfer to" value={props.value} onChange={(e) => props.onChange(e.currentTarget.value)} required>
      <option value="">Choose a queue or a colleague</option>
      <optgroup label="Queues">
        {props.directory.queues.filter((q) => q.media.includes(props.media)).map((q) => (
          <option key={q.name} value={`queue:${q.name}`}>
            {q.name}
            {q.description ? ` – ${q.description}` : ""}
          </option>
        ))}
      </optgroup>
      <optgroup label="Colleagues">
        {colleagues(props).map((a) => (
          <option key={a.id} value={`agent:${a.id}`}>
            {a.fullName}
          </option>
        ))}
      </optgroup>
    </select>
  );
}

/** Who an agent can hand work to or invite: everyone who takes work, but themselves. */
export const colleagues = (p: Pick<DeskProps, "directory" | "session">) => p.directory.agents.filter((a) => a.id !== p.session.agent.id && a.role !== "admin");

export function transferBody(v: string): { queue: string } | { agent: string } | null {
  const [kind, name] = v.split(":");
  if (!name) return null;
  return kind === "agent" ? { agent: name } : { queue: name };
}

/** The transfer dialog: picks a target and hands the API's body to `onTransfer`. */
export function TransferDialog(props: Pick<DeskProps, "directory" | "session"> & { title: string; media: Media; onClose: () => void; onTransfer: (to: { queue: string } | { agent: string }) => void }) {
  const [target, setTarget] = useState("");
  return (
    <Modal title={props.title} onClose={props.onClose}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const to = transferBody(target);
          if (to) props.onTransfer(to);
        }}
      >
        <label>
          To
          <TransferTarget {...props} value={target} onChange={setTarget} />
        </label>
        <div class="row end">
          <button type="submit" class="primary" disabled={!target}>
            Transfer
          </button>
        </div>
      </form>
    </Modal>
  );
}
