import type { AgentButtonState, AgentStartupPhase } from "../../../shared/state";

const PHASE_TEXT: Record<AgentStartupPhase, string> = {
  requested: "Requesting agent…",
  provisioning_vm: "Provisioning agent VM…",
  booting_guest: "Booting agent…",
  waiting_for_service_ready: "Starting agent service…",
  waiting_for_keypackage_publish: "Waiting for the agent's key package…",
  ready: "Agent ready",
  failed: "Agent failed to start",
};

interface AgentButtonProps {
  state: AgentButtonState;
  onStart?: () => void;
}

export function AgentButton({ state, onStart }: AgentButtonProps) {
  return (
    <div className="agent">
      <button type="button" className="primary" disabled={state.is_busy} aria-busy={state.is_busy} onClick={onStart}>
        {state.title}
      </button>
      {state.is_busy && <span role="progressbar" aria-label="Starting agent" className="spinner" />}
      {state.phase && <span className="agent-phase">{PHASE_TEXT[state.phase]}</span>}
    </div>
  );
}
