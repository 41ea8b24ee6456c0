import type { AppState, StateSnapshot } from "../../shared/state.js";
import type { AppCore } from "../app/appCore.js";

/**
 * Resolves with the first pushed snapshot (the current one included) whose state satisfies
 * `predicate`; rejects with `timeoutError()` when none does in time. For headless users of the core.
 */
export function waitForState(core: AppCore, predicate: (state: AppState) => boolean, timeoutMs: number, timeoutError: () => Error): Promise<StateSnapshot> {
  return new Promise((resolve, reject) => {
    let unsubscribe = (): void => undefined;
    const timer = setTimeout(() => {
      unsubscribe();
      reject(timeoutError());
    }, timeoutMs);
    let done = false;
    unsubscribe = core.subscribe((snapshot) => {
      if (done || !predicate(snapshot.state)) return;
      done = true;
      clearTimeout(timer);
      queueMicrotask(() => unsubscribe());
      resolve(snapshot);
    });
  });
}
