/** A crossed-out bell beside a muted chat's title; screen readers hear "muted" in the row's description. */
export function MutedIcon({ id }: { id: string }) {
  return (
    <span id={id} className="muted-icon" title="Notifications muted">
      <svg viewBox="0 0 16 16" width="13" height="13" aria-hidden="true" focusable="false">
        <path
          d="M8 2.2a3.8 3.8 0 0 0-3.8 3.8v2.6L3 10.7v.6h10v-.6l-1.2-2.1V6A3.8 3.8 0 0 0 8 2.2Z"
          fill="none"
          stroke="currentColor"
          strokeWidth="1.3"
          strokeLinejoin="round"
        />
        <path d="M6.5 12.8a1.6 1.6 0 0 0 3 0" fill="none" stroke="currentColor" strokeWidth="1.3" strokeLinecap="round" />
        <path d="M2.5 2.5l11 11" stroke="currentColor" strokeWidth="1.4" strokeLinecap="round" />
      </svg>
      <span className="visually-hidden">muted</span>
    </span>
  );
}
