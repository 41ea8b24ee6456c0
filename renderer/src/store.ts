import type { StateSnapshot } from "../../shared/state.js";

/** The newest snapshot pushed by the core, read by components through useSyncExternalStore. */
export class SnapshotStore {
  #snapshot: StateSnapshot | null = null;
  #floor = -Infinity;
  readonly #listeners = new Set<() => void>();

  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  };

  readonly getSnapshot = (): StateSnapshot | null => this.#snapshot;

  /** Drops a snapshot whose rev is not above the one already shown: it is stale. */
  push(snapshot: StateSnapshot): void {
    if (snapshot.rev <= this.#floor) return;
    this.#floor = snapshot.rev;
    this.#snapshot = snapshot;
    for (const listener of this.#listeners) listener();
  }

  /** A new connection may reach a restarted core whose revs start over, so its first snapshot is taken whatever its rev. */
  startOver(): void {
    this.#floor = -Infinity;
  }
}
