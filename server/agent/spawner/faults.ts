// Fault injection by configuration: the spawner's constructor option, overridden by
// `<dataDir>/faults.json` whenever that file exists. The file is read on every create, so tests and
// operators change faults without a restart; `PUT /faults` writes it.
import { readFile, stat } from "node:fs/promises";
import { errorCode, errorMessage, writeFileAtomic } from "./files.js";

export interface FaultConfig {
  /** create() throws SpawnerError create_failed: always (true), or for the next `times` creates after the config was set. */
  failCreate?: boolean | { times: number };
  /** Waits this long before starting the guest process (the boot timeout still counts from create). */
  bootDelayMs?: number;
  /** Kills the guest (SIGKILL) this long after it became ready. */
  crashAfterBootMs?: number;
  /** Starts the guest but ignores its ready line, so the VM fails at the boot timeout. */
  neverReady?: boolean;
}

/** The faults one create applies; they stay with that VM's launch. */
export interface CreateFaults {
  failCreate: boolean;
  bootDelayMs: number;
  crashAfterBootMs: number | null;
  neverReady: boolean;
}

export const NO_FAULTS: CreateFaults = { failCreate: false, bootDelayMs: 0, crashAfterBootMs: null, neverReady: false };

const MAX_DELAY_MS = 24 * 60 * 60 * 1000;
const KEYS = new Set(["failCreate", "bootDelayMs", "crashAfterBootMs", "neverReady"]);

function isDelay(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= MAX_DELAY_MS;
}

/** The config, or why `value` is not one. Unknown keys are refused so a typo does not silently inject nothing. */
export function parseFaultConfig(value: unknown): FaultConfig | string {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "faults must be a JSON object";
  const input = value as Record<string, unknown>;
  const unknown = Object.keys(input).filter((key) => !KEYS.has(key));
  if (unknown.length > 0) return `unknown fault ${unknown.join(", ")}`;
  const config: FaultConfig = {};
  const { failCreate, bootDelayMs, crashAfterBootMs, neverReady } = input;
  if (failCreate !== undefined) {
    if (typeof failCreate === "boolean") config.failCreate = failCreate;
    else if (
      typeof failCreate === "object" &&
      failCreate !== null &&
      Object.keys(failCreate).every((key) => key === "times") &&
      Number.isInteger((failCreate as { times?: unknown }).times) &&
      (failCreate as { times: number }).times >= 0
    ) {
      config.failCreate = { times: (failCreate as { times: number }).times };
    } else return "failCreate must be a boolean or {times: n} with n >= 0";
  }
  if (bootDelayMs !== undefined) {
    if (!isDelay(bootDelayMs)) return `bootDelayMs must be an integer 0..${MAX_DELAY_MS}`;
    config.bootDelayMs = bootDelayMs;
  }
  if (crashAfterBootMs !== undefined) {
    if (!isDelay(crashAfterBootMs)) return `crashAfterBootMs must be an integer 0..${MAX_DELAY_MS}`;
    config.crashAfterBootMs = crashAfterBootMs;
  }
  if (neverReady !== undefined) {
    if (typeof neverReady !== "boolean") return "neverReady must be a boolean";
    config.neverReady = neverReady;
  }
  return config;
}

export class FaultSource {
  // Which config the failCreate countdown belongs to: a new config (a rewritten file, a PUT) starts it again.
  private countdownKey: string | null = null;
  private failuresLeft = 0;

  constructor(
    private readonly path: string,
    private readonly base: FaultConfig,
    private readonly onInvalid: (message: string) => void,
  ) {}

  /** The config in force: faults.json when it exists and is valid, else the constructor's. */
  async current(): Promise<FaultConfig> {
    return (await this.read()).config;
  }

  /** Writes faults.json; the next create uses it. */
  async set(config: FaultConfig): Promise<void> {
    await writeFileAtomic(this.path, `${JSON.stringify(config, null, 2)}\n`);
    this.countdownKey = null;
  }

  /** The faults for one create; consumes one of `failCreate.times`. */
  async forCreate(): Promise<CreateFaults> {
    const { key, config } = await this.read();
    if (key !== this.countdownKey) {
      this.countdownKey = key;
      this.failuresLeft = typeof config.failCreate === "object" ? config.failCreate.times : 0;
    }
    let failCreate = config.failCreate === true;
    if (!failCreate && this.failuresLeft > 0) {
      this.failuresLeft -= 1;
      failCreate = true;
    }
    return {
      failCreate,
      bootDelayMs: config.bootDelayMs ?? 0,
      crashAfterBootMs: config.crashAfterBootMs ?? null,
      neverReady: config.neverReady ?? false,
    };
  }

  private async read(): Promise<{ key: string; config: FaultConfig }> {
    let text: string;
    let mtimeMs: number;
    try {
      [text, { mtimeMs }] = await Promise.all([readFile(this.path, "utf8"), stat(this.path)]);
    } catch (error) {
      if (errorCode(error) !== "ENOENT") this.onInvalid(`cannot read ${this.path}: ${errorMessage(error)}`);
      return { key: "option", config: this.base };
    }
    let parsed: FaultConfig | string;
    try {
      parsed = parseFaultConfig(JSON.parse(text));
    } catch (error) {
      parsed = errorMessage(error);
    }
    if (typeof parsed === "string") {
      this.onInvalid(`${this.path} ignored: ${parsed}`);
      return { key: "option", config: this.base };
    }
    return { key: `file:${mtimeMs}:${text}`, config: parsed };
  }
}
