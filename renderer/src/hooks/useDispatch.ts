import { useCallback } from "react";
import type { AppAction, DispatchReply } from "../../../shared/actions";
import { useBurrow } from "./useBurrow";

export type Dispatch = (action: AppAction) => Promise<DispatchReply>;

/**
 * Never rejects: a transport failure comes back as a refused reply. The core toasts its own
 * refusals and the connection banner explains a lost connection, so most callers need not wait.
 */
export function useDispatch(): Dispatch {
  const { connection } = useBurrow();
  return useCallback(
    (action: AppAction) =>
      connection.bridge.dispatch(action).catch((error: unknown): DispatchReply => ({
        ok: false,
        error: error instanceof Error ? error.message : String(error),
      })),
    [connection],
  );
}
