import { useEffect, useState } from "react";
import type { OpenChatState, RequestOutcome } from "../../../shared/state";
import { parsePubkeyInput } from "../../../shared/pubkeys";
import { newRequestId, outcomeOf } from "../groupInput";
import { useDispatch } from "../hooks/useDispatch";
import { Field } from "./Field";
import { FormDialog } from "./FormDialog";

interface NewChatDialogProps {
  creating: boolean;
  openChat: OpenChatState | null;
  outcomes: RequestOutcome[];
  /** `opened` when the core opened the requested chat, as opposed to a cancel. */
  onClose: (opened: boolean) => void;
}

/** What was asked for, to recognise the chat the core opens and the errors that came after. */
interface Request {
  pubkey: string;
  openChatId: string | null;
  requestId: number;
}

/**
 * Stays open until the core opens the requested chat. Its request carries an id, so the core
 * answers it in `outcomes` (no toast) and the error shows here, under the form.
 */
export function NewChatDialog({ creating, openChat, outcomes, onClose }: NewChatDialogProps) {
  const dispatch = useDispatch();
  const [input, setInput] = useState("");
  const [touched, setTouched] = useState(false);
  const [request, setRequest] = useState<Request | null>(null);

  useEffect(() => {
    if (!request || !openChat) return;
    const isRequested = openChat.kind === "direct" && openChat.members.some((member) => member.pubkey === request.pubkey);
    if (isRequested || openChat.chat_id !== request.openChatId) onClose(true);
  }, [request, openChat, onClose]);

  const parsed = parsePubkeyInput(input);
  const inputError = touched && !parsed.ok ? parsed.error : null;
  const coreError = outcomeOf(outcomes, request?.requestId)?.error ?? null;

  const submit = (): void => {
    setTouched(true);
    if (!parsed.ok || creating) return;
    const requestId = newRequestId();
    setRequest({ pubkey: parsed.pubkey, openChatId: openChat?.chat_id ?? null, requestId });
    void dispatch({ type: "CreateChat", peer: parsed.pubkey, request_id: requestId });
  };

  return (
    <FormDialog
      title="New chat"
      submitLabel="Start chat"
      canSubmit={parsed.ok && !creating}
      onSubmit={submit}
      onCancel={() => onClose(false)}
      busy={creating ? "Creating chat…" : null}
      error={coreError}
    >
      <Field
        label="Npub or hex public key"
        kind="key"
        autoFocus
        placeholder="npub1…"
        value={input}
        onChange={(value) => {
          setInput(value);
          setTouched(true);
        }}
        error={inputError}
      />
    </FormDialog>
  );
}
