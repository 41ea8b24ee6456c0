import { useSyncExternalStore } from "react";
import type { ConnectionStatus } from "../bridge/connection";
import { useBurrow } from "./useBurrow";

export function useConnectionStatus(): ConnectionStatus {
  const { connection } = useBurrow();
  return useSyncExternalStore(
    (listener) => connection.onStatus(listener),
    () => connection.getStatus(),
  );
}
