import { useSyncExternalStore } from "react";
import { useBurrow } from "./useBurrow";

/** The fetched picture at `url` as a `data:` URL, or null; re-renders only when that picture changes. */
export function usePicture(url: string | null): string | null {
  const { store } = useBurrow();
  return useSyncExternalStore(store.subscribe, () => (url ? (store.getSnapshot()?.state.pictures[url] ?? null) : null));
}
