// Clean shutdown for the stack's services: on SIGINT or SIGTERM, close, then report how it went.

export type StopLine = { event: "stopped"; signal: NodeJS.Signals } | { event: "stop_failed"; message: string };

export function closeOnSignals(close: () => Promise<void>, report: (line: StopLine) => void): void {
  const stop = (signal: NodeJS.Signals): void => {
    close().then(
      () => report({ event: "stopped", signal }),
      (error: unknown) => {
        report({ event: "stop_failed", message: error instanceof Error ? error.message : String(error) });
        process.exitCode = 1;
      },
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
