// The core's clock: injectable, so one core's time can be skewed in a test without touching the others.

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Unix seconds on `clock`. */
export function unixSeconds(clock: Clock): number {
  return Math.floor(clock.now() / 1000);
}
