import type { AppState, StatePush, StateSnapshot } from "../../shared/state.js";
import { foldPushes } from "../../shared/statePush.js";

/** What waitForState needs of a core (AppCore is one): the base knows no higher floor's types. */
interface StateSource {
  subscribe(listener: (push: StatePush) => void): () => void;
}

/**
 * Resolves with the first pushed snapshot (the current one included) whose state satisfies
 * `predicate`; rejects with `timeoutError()` when none does in time. For headless users of the core.
 */
export function waitForState(core: StateSource, predicate: (state: AppState) => boolean, timeoutMs: number, timeoutError: () => Error): Promise<StateSnapshot> {
  return new Promise((resolve, reject) => {
    let unsubscribe = (): void => undefined;
    const timer = setTimeout(() => {
      unsubscribe();
      reject(timeoutError());
    }, timeoutMs);
    let done = false;
    unsubscribe = core.subscribe(
      foldPushes((snapshot) => {
        if (done || !predicate(snapshot.state)) return;
        done = true;
        clearTimeout(timer);
        queueMicrotask(() => unsubscribe());
        resolve(snapshot);
      }),
    );
  });
}
