import type { ConnectionStatus } from "../bridge/connection";

const NEEDS_LINK = "This page needs the link printed by Burrow (it carries an access token).";

const MESSAGES: Record<Exclude<ConnectionStatus, "connected">, string> = {
  connecting: "Connecting to Burrow…",
  disconnected: "Disconnected from Burrow. Reconnecting…",
  no_token: NEEDS_LINK,
  refused: `Burrow refused this page's access token. ${NEEDS_LINK}`,
  incompatible: "This page belongs to another version of Burrow. Reload it.",
};

export function ConnectionBanner({ status }: { status: ConnectionStatus }) {
  if (status === "connected") return null;
  return (
    <p role="status" aria-label="Connection" className={`banner banner-${status}`}>
      {MESSAGES[status]}
    </p>
  );
}
