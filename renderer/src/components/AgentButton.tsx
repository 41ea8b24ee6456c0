import { useId } from "react";
import { agentPhaseText, type AgentButtonState } from "../../../shared/state";
import { useDispatch } from "../hooks/useDispatch";

/**
 * New Agent: asks the core to provision (or find) this account's agent. While a flow runs it stays
 * focusable but refuses clicks (aria-disabled), so focus is not lost after pressing it, and the phase
 * is announced by a status that is always mounted (a live region added with its text is often not read).
 */
export function AgentButton({ state }: { state: AgentButtonState }) {
  const dispatch = useDispatch();
  const progressId = useId();
  const phaseText = state.disabled_reason ? `${state.disabled_reason} Retry in Settings → Agent.` : state.phase ? agentPhaseText(state.phase) : "";
  const refused = state.is_busy || state.disabled_reason !== null;
  return (
    <>
      <button
        type="button"
        className="primary agent-button"
        aria-disabled={refused || undefined}
        aria-describedby={phaseText ? progressId : undefined}
        onClick={() => {
          if (!refused) void dispatch({ type: "EnsureAgent" });
        }}
      >
        {state.title}
      </button>
      <div className={phaseText ? "agent-progress agent-progress-shown" : "agent-progress"}>
        {state.is_busy && <span role="progressbar" aria-label="Starting agent" aria-valuetext={phaseText || undefined} className="spinner" />}
        <span role="status" aria-label="Agent progress" className="agent-phase">
          <span id={progressId}>{phaseText}</span>
        </span>
      </div>
    </>
  );
}
