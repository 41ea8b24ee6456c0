// Optional timing of the push path's stages (the state bench listens): published on a diagnostics
// channel only while someone subscribes, so an app that does not listen pays one check.
import { channel } from "node:diagnostics_channel";
import { performance } from "node:perf_hooks";

export const STAGE_CHANNEL = "burrow.push_stage";

export interface StageTiming {
  stage: string;
  ms: number;
}

const stages = channel(STAGE_CHANNEL);

export function timed<T>(stage: string, work: () => T): T {
  if (!stages.hasSubscribers) return work();
  const started = performance.now();
  try {
    return work();
  } finally {
    stages.publish({ stage, ms: performance.now() - started } satisfies StageTiming);
  }
}
