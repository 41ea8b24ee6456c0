import { useId, useState, type FormEvent } from "react";
import { MAX_RELAYS } from "../../../shared/actions";
import { toUserMessage } from "../../../shared/errors";
import { relayUrlProblem, sameRelayUrl } from "../../../shared/relayUrl";
import type { NetworkState, RelayConnection } from "../../../shared/state";
import { useDispatch } from "../hooks/useDispatch";
import { Field } from "./Field";

const STATUS_TEXT: Record<RelayConnection, string> = {
  connected: "Connected",
  connecting: "Connecting…",
  disconnected: "Disconnected",
};

// One endpoint however it is spelled (`ws://h:1` = `ws://h:1/`), as the core's relay pool sees it.
const sameRelay = (a: string, b: string): boolean => a === b || sameRelayUrl(a, b);

function relayUrlError(url: string, relays: string[]): string | null {
  if (!url.includes("://")) return "Enter a relay URL starting with wss:// or ws://";
  const problem = relayUrlProblem(url);
  if (problem !== null) return toUserMessage("invalid_relay_url", problem);
  if (relays.some((relay) => sameRelay(relay, url))) return "This relay is already in the list";
  if (relays.length >= MAX_RELAYS) return `Burrow uses at most ${MAX_RELAYS} relays. Remove one first`;
  return null;
}

/** The configured relays with their live status. Every change sends the whole new list (SetRelays). */
export function RelaySettings({ relays, network }: { relays: string[]; network: NetworkState }) {
  const dispatch = useDispatch();
  const headingId = useId();
  const [input, setInput] = useState("");
  const [touched, setTouched] = useState(false);
  const [saving, setSaving] = useState(false);

  const url = input.trim();
  const error = relayUrlError(url, relays);
  const shownError = touched && url !== "" ? error : null;

  const save = async (next: string[]): Promise<boolean> => {
    setSaving(true);
    const reply = await dispatch({ type: "SetRelays", relays: next });
    setSaving(false);
    return reply.ok;
  };

  const add = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    setTouched(true);
    if (error || saving) return;
    if (await save([...relays, url])) {
      setInput("");
      setTouched(false);
    }
  };

  const statusOf = (relay: string): RelayConnection | null => network.relays.find((entry) => sameRelay(entry.url, relay))?.status ?? null;

  return (
    <section className="card" aria-labelledby={headingId}>
      <h2 id={headingId}>Relays</h2>
      <p>Burrow sends and receives messages through these Nostr relays.</p>
      {relays.length === 0 && <p className="field-error">No relays: Burrow cannot send or receive messages until you add one.</p>}
      <ul role="list" aria-label="Relays" className="plain-list relay-list">
        {relays.map((relay) => {
          const status = statusOf(relay);
          return (
            <li key={relay} className="relay">
              <span className="url-text mono">{relay}</span>
              <span className={`status-dot relay-status relay-${status ?? "unknown"}`}>
                {status ? STATUS_TEXT[status] : network.enabled ? "Not connected" : "Network off"}
              </span>
              <button
                type="button"
                aria-label={`Remove ${relay}`}
                disabled={saving}
                onClick={() => void save(relays.filter((other) => other !== relay))}
              >
                Remove
              </button>
            </li>
          );
        })}
      </ul>
      <form className="inline-form" onSubmit={(event) => void add(event)} noValidate>
        <Field
          label="Relay URL"
          kind="url"
          placeholder="wss://relay.example.com"
          value={input}
          onChange={(value) => {
            setInput(value);
            setTouched(true);
          }}
          error={shownError}
          action={
            <button type="submit" disabled={error !== null || saving}>
              Add relay
            </button>
          }
        />
      </form>
    </section>
  );
}
