import type { ChatSummary } from "../../../shared/state";

const BADGES = {
  current: { text: "Agent", description: "Your agent" },
  past: { text: "Past agent", description: "Past agent (replaced)" },
} as const;

/** Marks a chat with this account's agent. Screen readers get the longer description instead of the short badge text. */
export function AgentBadge({ id, agent }: { id?: string; agent: NonNullable<ChatSummary["agent"]> }) {
  const badge = BADGES[agent];
  return (
    <span id={id} className={`agent-badge agent-badge-${agent}`}>
      <span aria-hidden="true">{badge.text}</span>
      <span className="visually-hidden">{badge.description}</span>
    </span>
  );
}
