// The core's log line and logger: at the base, so every part of the core can log without importing the owner of the state.

export type LogLine = Record<string, unknown> & { event: string };
export type Logger = (line: LogLine) => void;
