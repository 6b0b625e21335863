// What an agent does with any work in hand: a note, transfer (to a queue or a colleague), return
// to the queue, park in the workbin, stop, done.
import { useState } from "preact/hooks";
import { errorText } from "../shared/api.ts";
import type { WorkView } from "../shared/types.ts";
import { Modal } from "../shared/ui.tsx";
import type { DeskProps } from "./props.ts";
import { TransferDialog } from "./TransferTarget.tsx";
import { CategoryPicker, initialCategories, useClassification } from "./Classification.tsx";

export function Actions(props: DeskProps & { work: WorkView; onClosed: () => void; onNote: () => void }) {
  const { auth, work } = props;
  const id = work.interactionId;
  const [dialog, setDialog] = useState<null | "note" | "transfer" | "stop">(null);
  const classification = useClassification(auth, id);
  const [picked, setPicked] = useState<string[] | null>(null);
  const categories = picked ?? (classification ? initialCategories(classification) : []);
  const [text, setText] = useState("");
  // One action at a time: a double click must not add a note twice or answer "not in your hands".
  const [busy, setBusy] = useState(false);
  const run = async (path: string, body: unknown, closes: boolean, done: string) => {
    if (busy) return;
    setBusy(true);
    try {
      await auth.post(`/api/v1/interactions/${id}/${path}`, body);
      props.toast(done);
      setDialog(null);
      setText("");
      if (closes) props.onClosed();
      props.refresh();
    } catch (e) {
      props.toast(errorText(e), "error");
    } finally {
      setBusy(false);
    }
  };
  // The categories go first: the agent may still set them while the work is in hand.
  const done = async () => {
    if (busy) return;
    if (classification?.tree.length && (categories.length > 0 || picked !== null)) {
      try {
        await auth.call("PUT", `/api/v1/interactions/${id}/categories`, { categories });
      } catch (e) {
        props.toast(errorText(e), "error");
        return;
      }
    }
    await run("done", {}, true, "Done");
  };
  return (
    <div class="row actions" role="toolbar" aria-label="Actions" aria-busy={busy}>
      <button type="button" onClick={() => setDialog("note")}>
        Note
      </button>
      <button type="button" onClick={() => setDialog("transfer")}>
        Transfer
      </button>
      <button type="button" onClick={() => void run("return", {}, true, "Returned to its queue")}>
        Return to queue
      </button>
      <button type="button" onClick={() => void run("park", { workbin: "personal" }, true, "Parked in your workbin")}>
        To workbin
      </button>
      <button type="button" class="danger" onClick={() => setDialog("stop")}>
        Stop
      </button>
      <button type="button" class="primary" title="Alt+D" onClick={() => void done()}>
        Done
      </button>
      {classification && classification.tree.length > 0 && <CategoryPicker c={classification} picked={categories} onChange={setPicked} />}
      {dialog === "note" && (
        <Modal title="Add a note" onClose={() => setDialog(null)}>
          <form onSubmit={(e) => { e.preventDefault(); void run("notes", { text }, false, "Note added").then(props.onNote); }}>
            <label>
              Note (staff only)
              <textarea name="note" value={text} onInput={(e) => setText(e.currentTarget.value)} required maxLength={10_000} />
            </label>
            <div class="row end">
              <button type="submit" class="primary">Save note</button>
            </div>
          </form>
        </Modal>
      )}
      {dialog === "transfer" && (
        <TransferDialog
          {...props}
          title="Transfer"
          media={work.media}
          onClose={() => setDialog(null)}
          onTransfer={(to) => void run("transfer", to, true, `Transferred to ${"agent" in to ? to.agent : to.queue}`)}
        />
      )}
      {dialog === "stop" && (
        <Modal title="Stop processing" onClose={() => setDialog(null)}>
          <form onSubmit={(e) => { e.preventDefault(); void run("stop", { reason: text }, true, "Stopped"); }}>
            <label>
              Reason (kept in the history)
              <input name="reason" value={text} onInput={(e) => setText(e.currentTarget.value)} required maxLength={200} />
            </label>
            <div class="row end">
              <button type="submit" class="danger">Stop it</button>
            </div>
          </form>
        </Modal>
      )}
    </div>
  );
}
