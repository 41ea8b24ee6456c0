import type { Ref } from "react";
import { agentPhaseText, type AgentFlowPhase } from "../../../shared/state";

interface AgentPlaceholderRowProps {
  ref: Ref<HTMLDivElement>;
  index: number;
  setSize: number;
  phase: AgentFlowPhase;
}

/**
 * Stands at the top of the chat list while a New Agent flow runs, where the agent's chat will appear.
 * Not a live region: the New Agent button's status already announces each phase.
 */
export function AgentPlaceholderRow({ ref, index, setSize, phase }: AgentPlaceholderRowProps) {
  return (
    <div ref={ref} role="listitem" data-index={index} aria-setsize={setSize} aria-posinset={index + 1} className="virtual-row chat chat-pending">
      <div className="chat-row chat-pending-body">
        <span className="chat-title truncate">New Agent</span>
        <span className="spinner" aria-hidden="true" />
        <span className="chat-last truncate">{agentPhaseText(phase)}</span>
      </div>
    </div>
  );
}
