import { useSyncExternalStore } from "react";
import type { AppState } from "../../../shared/state";
import { useBurrow } from "./useBurrow";

/** The latest state pushed by the core, or null before the first snapshot arrives. */
export function useAppState(): AppState | null {
  const { store } = useBurrow();
  return useSyncExternalStore(store.subscribe, store.getSnapshot)?.state ?? null;
}
