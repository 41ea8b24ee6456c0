import type { SyncState } from "../../../shared/state";

/** Catching up on a backlog after being offline. The bar is a native <progress>, so no inline style sets its width. */
export function SyncProgress({ sync }: { sync: SyncState }) {
  const max = Math.max(sync.total, 1);
  const value = Math.min(sync.done, max);
  return (
    <div role="status" aria-label="Sync progress" className="sync-progress">
      <span className="sync-text">
        Syncing {sync.done}/{sync.total}
      </span>
      <div role="progressbar" aria-label="Sync progress" aria-valuemin={0} aria-valuemax={max} aria-valuenow={value} className="sync-bar">
        <progress aria-hidden="true" max={max} value={value} />
      </div>
    </div>
  );
}
