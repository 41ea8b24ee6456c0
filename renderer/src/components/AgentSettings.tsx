import { useId, useState, type FormEvent } from "react";
import { isAgentApiUrl } from "../../../shared/actions";
import type { AgentAccess, AgentState } from "../../../shared/state";
import { fullTime } from "../format";
import { useDispatch } from "../hooks/useDispatch";
import { Field } from "./Field";

const ACCESS_TEXT: Record<AgentAccess, string> = {
  unknown: "Checking agent access…",
  allowlisted: "This account can have an agent.",
  not_allowlisted: "This account is not allowlisted for agents.",
};

interface AgentSettingsProps {
  agent: AgentState;
  /** The agent API chosen in settings; null when the environment's or the built-in one is used. */
  chosenUrl: string | null;
}

/** Which agent API the New Agent button talks to, and whether this account may have an agent there. */
export function AgentSettings({ agent, chosenUrl }: AgentSettingsProps) {
  const dispatch = useDispatch();
  const headingId = useId();
  const inUseLabelId = useId();
  const [input, setInput] = useState("");
  const [touched, setTouched] = useState(false);
  const [saving, setSaving] = useState(false);

  const url = input.trim();
  const valid = isAgentApiUrl(url);
  const shownError = touched && url !== "" && !valid ? "Enter a URL starting with https:// or http://, without ? or #" : null;

  const save = async (next: string | null): Promise<boolean> => {
    setSaving(true);
    const reply = await dispatch({ type: "SetAgentApiUrl", url: next });
    setSaving(false);
    return reply.ok;
  };

  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    setTouched(true);
    if (!valid || saving) return;
    if (await save(url)) {
      setInput("");
      setTouched(false);
    }
  };

  return (
    <section className="card" aria-labelledby={headingId}>
      <h2 id={headingId}>Agent</h2>
      <p role="status" aria-label="Agent access" className={`status-dot agent-access-${agent.access}`}>
        {agent.access === "unknown" && agent.probe_error ? "Could not check agent access." : ACCESS_TEXT[agent.access]}
      </p>
      {agent.probe_error && (
        <div className="agent-probe-error">
          <p role="alert" className="field-error">
            {agent.probe_error.message} Last tried <time dateTime={new Date(agent.probe_error.at * 1000).toISOString()}>{fullTime(agent.probe_error.at)}</time>.
          </p>
          <button type="button" disabled={agent.probing} onClick={() => void dispatch({ type: "RetryAgentProbe" })}>
            {agent.probing ? "Checking…" : "Retry"}
          </button>
        </div>
      )}
      <div className="agent-api-in-use">
        <span id={inUseLabelId}>
          Agent API in use
        </span>
        <div className="row">
          <span role="textbox" aria-readonly="true" aria-labelledby={inUseLabelId} tabIndex={0} className="url-text mono">
            {agent.api_url}
          </span>
          {chosenUrl === null && <span className="agent-api-source">Default</span>}
        </div>
      </div>
      <form className="inline-form" onSubmit={(event) => void submit(event)} noValidate>
        <Field
          label="Agent API URL"
          kind="url"
          placeholder="https://agents.example.com"
          value={input}
          onChange={(value) => {
            setInput(value);
            setTouched(true);
          }}
          error={shownError}
          action={
            <button type="submit" disabled={!valid || saving}>
              Save agent API
            </button>
          }
        />
      </form>
      {chosenUrl !== null && (
        <button type="button" disabled={saving} onClick={() => void save(null)}>
          Use default agent API
        </button>
      )}
    </section>
  );
}
