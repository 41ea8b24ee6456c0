// The local VM host: each "VM" is a child process running the agent bot, with its own directory
// under `<dataDir>/vms/`, and the host's state in `<dataDir>/vms.json` so a restart keeps every agent.
//
// Restart policy: vms.json records each VM's request (never its secret), its status and its guest's
// pid. A new spawner on the same data dir restarts every VM that was starting or running — after
// stopping a guest that outlived the old spawner (found by pid and checked by command line) — from
// the same directory, so the agent keeps its identity and its MLS state: the VM reads `starting`
// again, then `running`. VMs that had stopped or failed stay so, with their error, until deleted.
// close() stops every guest but keeps their records as they are, so a clean restart is the same.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { access, mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { SpawnerError } from "../types.js";
import type { AgentStartupPhase } from "../../../shared/agentApi.js";
import type { CreateVmRequest, Spawner, VmInfo, VmStatus } from "../types.js";
import { RotatingLog, errorMessage, lockDataDir } from "./files.js";
import { FaultSource, NO_FAULTS } from "./faults.js";
import type { CreateFaults, FaultConfig } from "./faults.js";
import { stopStrayProcess } from "./processes.js";
import { validateCreateVmRequest } from "./request.js";
import { VmStateFile, isVmId, type VmRecord } from "./vmState.js";

export type { FaultConfig } from "./faults.js";

export type SpawnerLogLine = Record<string, unknown> & { event: string };

export interface LocalSpawnerOptions {
  dataDir: string;
  /** The agent bot's entry point; default dist/server/agent/bot/main.js beside this build. */
  agentEntry?: string;
  /** The Node binary guests run on; default this process's. */
  nodePath?: string;
  /** Faults in force while `<dataDir>/faults.json` does not exist. */
  faults?: FaultConfig;
  log?: (line: SpawnerLogLine) => void;
  /** A VM not ready this long after create (or after a restart) fails and its guest is stopped. Default 120 s. */
  bootTimeoutMs?: number;
  /** How long a guest has to exit after SIGTERM before SIGKILL. Default 12 s: longer than the bot's own 10 s shutdown limit. */
  stopGraceMs?: number;
  /** Most VMs kept at once, stopped and failed ones included. Default 100. */
  maxVms?: number;
  /** The environment guests start from (default this process's); the spawner's token never reaches them. */
  guestEnv?: NodeJS.ProcessEnv;
}

interface Vm {
  record: VmRecord;
  /** `<dataDir>/vms/<vm_id>` (mode 0700): the secret file (0600, the key's only copy), the guest's log and its data dir. */
  dir: string;
  child: ChildProcess | null;
  /** Settles when the current guest has exited (at once when there is none). */
  exited: Promise<void>;
  /** The start in progress (spawnGuest): settles once the guest runs, or once the start gave up. */
  launching: Promise<void>;
  faults: CreateFaults;
  timers: Set<NodeJS.Timeout>;
  bootTimer: NodeJS.Timeout | null;
  stderrTail: string;
  /** The message of the guest's `{"event":"fatal"}` line, the best account of why it exited. */
  fatal: string | null;
  /** Why the guest was killed on purpose (an injected crash), added to its exit error. */
  killNote: string | null;
  /** Set by delete/close: the guest's exit is expected and changes nothing. */
  stopping: boolean;
  removal: Promise<void> | null;
}

// Keep in sync with the bot's `{"event":"phase"}` lines (its CLI contract).
const GUEST_PHASES: ReadonlySet<string> = new Set(["booting_guest", "waiting_for_service_ready", "waiting_for_keypackage_publish"]);
const SECRET_FILE = "agent_secret";
const GUEST_LOG = "guest.log";
const GUEST_DATA = "data";
const MAX_GUEST_LOG_BYTES = 1024 * 1024;
const STDERR_TAIL_CHARS = 4096;

/** The built agent bot beside this build. */
export const DEFAULT_AGENT_ENTRY = fileURLToPath(new URL("../bot/main.js", import.meta.url));

/** The last few meaningful stderr lines (no stack frames, no Node banner), for an error message. */
function stderrSummary(tail: string): string {
  const lines = tail
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("at ") && !/^Node\.js v\d/.test(line));
  const summary = lines.slice(-3).join(" | ");
  return summary === "" ? "" : `: ${summary.length > 500 ? `…${summary.slice(-500)}` : summary}`;
}

function setState(vm: Vm, status: VmStatus, phase: AgentStartupPhase | null, error: string | null): void {
  vm.record.status = status;
  vm.record.phase = phase;
  vm.record.error = error;
}

export class LocalSpawner implements Spawner {
  private readonly dataDir: string;
  private readonly vmsDir: string;
  private readonly state: VmStateFile;
  private readonly agentEntry: string;
  private readonly nodePath: string;
  private readonly bootTimeoutMs: number;
  private readonly stopGraceMs: number;
  private readonly maxVms: number;
  private readonly guestEnv: NodeJS.ProcessEnv;
  private readonly log: (line: SpawnerLogLine) => void;
  private readonly faultSource: FaultSource;
  private readonly vms = new Map<string, Vm>();
  private initialized: Promise<void> | null = null;
  private closed: Promise<void> | null = null;
  private releaseLock: (() => Promise<void>) | null = null;
  private createQueue: Promise<unknown> = Promise.resolve();

  constructor(options: LocalSpawnerOptions) {
    this.dataDir = options.dataDir;
    this.vmsDir = join(options.dataDir, "vms");
    this.agentEntry = options.agentEntry ?? DEFAULT_AGENT_ENTRY;
    this.nodePath = options.nodePath ?? process.execPath;
    this.bootTimeoutMs = options.bootTimeoutMs ?? 120_000;
    this.stopGraceMs = options.stopGraceMs ?? 12_000;
    this.maxVms = options.maxVms ?? 100;
    this.guestEnv = options.guestEnv ?? process.env;
    this.log = options.log ?? (() => {});
    this.state = new VmStateFile(join(options.dataDir, "vms.json"), this.log);
    this.faultSource = new FaultSource(join(options.dataDir, "faults.json"), options.faults ?? {}, (message) =>
      this.log({ event: "faults_invalid", message }),
    );
  }

  /** Takes the data dir and restarts its VMs (the restart policy above). Every other method waits for it; calling it early just starts it sooner. */
  start(): Promise<void> {
    this.initialized ??= this.init();
    return this.initialized;
  }

  /** Creates run one at a time, so the checks against existing VMs (same key, the limit) hold. */
  create(input: CreateVmRequest): Promise<{ vm_id: string }> {
    const run = this.createQueue.then(() => this.createNow(input));
    this.createQueue = run.catch(() => {});
    return run;
  }

  private async createNow(input: CreateVmRequest): Promise<{ vm_id: string }> {
    await this.ready();
    const request = validateCreateVmRequest(input);
    // Idempotent per agent key: a create retried after a lost answer must not start a second bot with the same key.
    for (const vm of this.vms.values()) {
      const { record } = vm;
      if (record.agent_pubkey !== request.agent_pubkey || vm.stopping) continue;
      if (record.status !== "starting" && record.status !== "running") continue;
      if (record.owner_pubkey !== request.owner_pubkey) throw new SpawnerError("create_failed", `agent key already runs in ${record.vm_id} for another owner`);
      return { vm_id: record.vm_id };
    }
    const faults = await this.faultSource.forCreate();
    if (faults.failCreate) {
      this.log({ event: "create_failed", reason: "injected fault failCreate" });
      throw new SpawnerError("create_failed", "injected fault: failCreate");
    }
    if (this.vms.size >= this.maxVms) throw new SpawnerError("create_failed", `VM limit reached (${this.maxVms})`);
    try {
      await access(this.agentEntry);
    } catch {
      throw new SpawnerError("create_failed", `agent entry ${this.agentEntry} not found (is the project built?)`);
    }

    const vmId = `vm-${randomBytes(8).toString("hex")}`;
    const vm = this.newVm(
      {
        vm_id: vmId,
        agent_pubkey: request.agent_pubkey,
        owner_pubkey: request.owner_pubkey,
        relays: request.relays,
        created_at: Date.now(),
        status: "starting",
        phase: "provisioning_vm",
        error: null,
        pid: null,
      },
      faults,
    );
    const { dir } = vm;
    try {
      await mkdir(dir, { mode: 0o700 });
      await mkdir(this.guestDataDir(vm), { mode: 0o700 });
      await writeFile(join(dir, SECRET_FILE), request.agent_secret_hex, { mode: 0o600, flag: "wx" });
      this.vms.set(vmId, vm);
      await this.persist();
    } catch (error) {
      this.vms.delete(vmId);
      await rm(dir, { recursive: true, force: true });
      throw new SpawnerError("create_failed", `cannot prepare ${vmId}: ${errorMessage(error)}`);
    }
    this.log({ event: "vm_created", vm_id: vmId, agent_pubkey: request.agent_pubkey, owner_pubkey: request.owner_pubkey });
    this.launch(vm);
    return { vm_id: vmId };
  }

  async status(vmId: string): Promise<VmInfo | null> {
    await this.ready();
    const vm = this.vms.get(vmId);
    return vm ? this.info(vm) : null;
  }

  async list(): Promise<VmInfo[]> {
    await this.ready();
    return [...this.vms.values()]
      .map((vm) => this.info(vm))
      .sort((a, b) => a.created_at - b.created_at || a.vm_id.localeCompare(b.vm_id));
  }

  async delete(vmId: string): Promise<boolean> {
    await this.ready();
    const vm = this.vms.get(vmId);
    if (!vm) return false;
    vm.removal ??= this.remove(vm);
    await vm.removal;
    return true;
  }

  /** The faults the next create applies. */
  async getFaults(): Promise<FaultConfig> {
    return this.faultSource.current();
  }

  /** Writes `<dataDir>/faults.json`: in force from the next create, and across restarts until changed. */
  async setFaults(config: FaultConfig): Promise<void> {
    await this.ready();
    await this.faultSource.set(config);
    this.log({ event: "faults_set", faults: config });
  }

  /** Stops every guest; their records stay as they are, so the next spawner on this data dir restarts them. */
  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async ready(): Promise<void> {
    if (this.closed) throw new SpawnerError("unavailable", "the spawner is closed");
    try {
      await this.start();
    } catch (error) {
      throw new SpawnerError("unavailable", `the spawner could not start: ${errorMessage(error)}`);
    }
  }

  private newVm(record: VmRecord, faults: CreateFaults): Vm {
    return {
      record,
      dir: join(this.vmsDir, record.vm_id),
      child: null,
      exited: Promise.resolve(),
      launching: Promise.resolve(),
      faults,
      timers: new Set(),
      bootTimer: null,
      stderrTail: "",
      fatal: null,
      killNote: null,
      stopping: false,
      removal: null,
    };
  }

  private info(vm: Vm): VmInfo {
    const { vm_id, status, phase, error, agent_pubkey, owner_pubkey, created_at } = vm.record;
    return { vm_id, status, phase, error, agent_pubkey, owner_pubkey, created_at };
  }

  private async init(): Promise<void> {
    await mkdir(this.vmsDir, { recursive: true, mode: 0o700 });
    this.releaseLock = await lockDataDir(this.dataDir);
    const { records, mentioned } = await this.state.read();
    // A directory the state file does not mention is a create or delete that was cut short.
    for (const name of await readdir(this.vmsDir)) {
      if (isVmId(name) && !mentioned.has(name)) {
        await rm(join(this.vmsDir, name), { recursive: true, force: true });
        this.log({ event: "vm_dir_removed", vm_id: name, reason: "no record" });
      }
    }
    const restarts: Vm[] = [];
    for (const record of records) {
      // A restart applies no injected faults: they belong to the create that asked for them.
      const vm = this.newVm(record, NO_FAULTS);
      this.vms.set(record.vm_id, vm);
      if (record.pid !== null) {
        const stopped = await stopStrayProcess(record.pid, this.guestDataDir(vm), this.stopGraceMs);
        if (stopped) this.log({ event: "stray_guest_stopped", vm_id: record.vm_id, pid: record.pid });
        record.pid = null;
      }
      if (record.status === "starting" || record.status === "running") restarts.push(vm);
    }
    for (const vm of restarts) {
      try {
        await access(join(vm.dir, SECRET_FILE));
      } catch {
        this.fail(vm, "cannot restart after a spawner restart: its secret file is missing");
        continue;
      }
      this.log({ event: "vm_restarting", vm_id: vm.record.vm_id, was: vm.record.status });
      this.launch(vm);
    }
    await this.persist();
  }

  private persist(): Promise<void> {
    return this.state.write(() => [...this.vms.values()].map((vm) => vm.record));
  }

  private persistSoon(): void {
    this.persist().catch((error: unknown) => this.log({ event: "persist_failed", message: errorMessage(error) }));
  }

  private guestDataDir(vm: Vm): string {
    return join(vm.dir, GUEST_DATA);
  }

  private after(vm: Vm, ms: number, run: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      vm.timers.delete(timer);
      run();
    }, ms);
    vm.timers.add(timer);
    return timer;
  }

  private clearTimers(vm: Vm): void {
    for (const timer of vm.timers) clearTimeout(timer);
    vm.timers.clear();
    vm.bootTimer = null;
  }

  /** Starts (or restarts) the VM: the boot timeout counts from here, an injected boot delay included. */
  private launch(vm: Vm): void {
    if (this.closed) return;
    setState(vm, "starting", "provisioning_vm", null);
    vm.record.pid = null;
    vm.stderrTail = "";
    vm.fatal = null;
    vm.killNote = null;
    vm.bootTimer = this.after(vm, this.bootTimeoutMs, () => this.bootTimedOut(vm));
    const start = (): void => {
      vm.launching = this.spawnGuest(vm).catch((error: unknown) => this.log({ event: "guest_start_error", vm_id: vm.record.vm_id, message: errorMessage(error) }));
    };
    if (vm.faults.bootDelayMs > 0) this.after(vm, vm.faults.bootDelayMs, start);
    else start();
  }

  private async spawnGuest(vm: Vm): Promise<void> {
    let secret: string;
    let log: RotatingLog;
    try {
      secret = (await readFile(join(vm.dir, SECRET_FILE), "utf8")).trim();
      log = await RotatingLog.open(join(vm.dir, GUEST_LOG), MAX_GUEST_LOG_BYTES);
    } catch (error) {
      if (vm.record.status === "starting" && !vm.stopping) this.fail(vm, `cannot start the guest: ${errorMessage(error)}`);
      return;
    }
    if (vm.record.status !== "starting" || vm.stopping || this.closed) {
      await log.end();
      return;
    }
    const { record } = vm;
    const env: NodeJS.ProcessEnv = { ...this.guestEnv };
    delete env["BURROW_SPAWNER_TOKEN"];
    const args = [this.agentEntry, "--data-dir", this.guestDataDir(vm), "--owner", record.owner_pubkey];
    for (const relay of record.relays) args.push("--relay", relay);
    // Its own process group: a Ctrl-C meant for the spawner reaches the guests only through close().
    let child: ChildProcess;
    try {
      child = spawn(this.nodePath, args, {
        cwd: vm.dir,
        env,
        stdio: ["pipe", "pipe", "pipe"],
        detached: process.platform !== "win32",
        windowsHide: true,
      });
    } catch (error) {
      await log.end();
      this.fail(vm, `cannot start the guest: ${errorMessage(error)}`);
      return;
    }
    // The key goes over stdin (the bot's CLI contract): argv is world-readable in /proc/<pid>/cmdline and
    // the environment sits in /proc/<pid>/environ for the guest's lifetime. A guest that exits before
    // reading it breaks the pipe; that exit is reported below.
    child.stdin?.on("error", () => {});
    child.stdin?.end(`${secret}\n`);
    vm.child = child;
    let exited: () => void = () => {};
    vm.exited = new Promise<void>((resolve) => (exited = resolve));
    child.once("exit", () => exited());
    record.pid = child.pid ?? null;

    child.stderr?.on("data", (chunk: Buffer) => {
      log.write(chunk);
      vm.stderrTail = (vm.stderrTail + chunk.toString("utf8")).slice(-STDERR_TAIL_CHARS);
    });
    if (child.stdout) {
      createInterface({ input: child.stdout, crlfDelay: Infinity }).on("line", (line) => {
        log.write(`${line}\n`);
        this.onGuestLine(vm, child, line);
      });
    }
    child.on("error", (error) => {
      // With a pid the process exists and "exit" follows; without one it never started.
      if (child.pid !== undefined || vm.child !== child) return;
      exited();
      vm.child = null;
      void log.end();
      if (vm.record.status === "starting" && !vm.stopping) this.fail(vm, `cannot start the guest: ${error.message}`);
    });
    child.once("close", (code, signal) => {
      void log.end();
      this.onGuestClosed(vm, child, code, signal);
    });
    if (child.pid !== undefined) {
      this.log({ event: "guest_started", vm_id: record.vm_id, pid: child.pid });
      this.persistSoon();
    }
  }

  private onGuestLine(vm: Vm, child: ChildProcess, line: string): void {
    if (vm.child !== child || vm.stopping) return;
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      return;
    }
    if (typeof message !== "object" || message === null) return;
    const { event, phase, agent_pubkey, message: text } = message as Record<string, unknown>;
    const { record } = vm;
    if (event === "fatal" && typeof text === "string") vm.fatal = text.slice(0, 500);
    if (record.status !== "starting") return;
    if (event === "phase" && typeof phase === "string" && GUEST_PHASES.has(phase)) {
      record.phase = phase as AgentStartupPhase;
      this.log({ event: "vm_phase", vm_id: record.vm_id, phase });
    } else if (event === "ready") {
      if (vm.faults.neverReady) {
        this.log({ event: "guest_ready_ignored", vm_id: record.vm_id, reason: "injected fault neverReady" });
        return;
      }
      if (agent_pubkey !== record.agent_pubkey) {
        this.fail(vm, `the guest reported agent_pubkey ${String(agent_pubkey)}, expected ${record.agent_pubkey}`);
        void this.stopGuest(vm);
        return;
      }
      if (vm.bootTimer) {
        clearTimeout(vm.bootTimer);
        vm.timers.delete(vm.bootTimer);
        vm.bootTimer = null;
      }
      setState(vm, "running", "ready", null);
      this.log({ event: "vm_running", vm_id: record.vm_id });
      this.persistSoon();
      const crashAfter = vm.faults.crashAfterBootMs;
      if (crashAfter !== null) {
        this.after(vm, crashAfter, () => {
          if (vm.child !== child || record.status !== "running") return;
          vm.killNote = `injected fault crashAfterBootMs=${crashAfter}`;
          child.kill("SIGKILL");
        });
      }
    }
  }

  private onGuestClosed(vm: Vm, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (vm.child !== child) return;
    vm.child = null;
    vm.record.pid = null;
    const how = code !== null ? `code ${code}` : `signal ${signal ?? "unknown"}`;
    this.log({ event: "guest_exited", vm_id: vm.record.vm_id, code, signal });
    if (vm.stopping) return;
    const note = vm.killNote ? ` (${vm.killNote})` : "";
    const detail = vm.fatal ? `: ${vm.fatal}` : stderrSummary(vm.stderrTail);
    if (vm.record.status === "starting") {
      this.fail(vm, `the guest exited before it was ready (${how})${note}${detail}`);
    } else if (vm.record.status === "running") {
      this.clearTimers(vm);
      setState(vm, "stopped", vm.record.phase, `the guest exited (${how})${note}${detail}`);
      this.log({ event: "vm_stopped", vm_id: vm.record.vm_id, error: vm.record.error });
      this.persistSoon();
    } else {
      this.persistSoon();
    }
  }

  private bootTimedOut(vm: Vm): void {
    if (vm.record.status !== "starting" || vm.stopping) return;
    this.fail(vm, `not ready within ${this.bootTimeoutMs} ms (last phase: ${vm.record.phase ?? "none"})`);
    void this.stopGuest(vm);
  }

  private fail(vm: Vm, error: string): void {
    this.clearTimers(vm);
    setState(vm, "failed", "failed", error);
    this.log({ event: "vm_failed", vm_id: vm.record.vm_id, error });
    this.persistSoon();
  }

  /** SIGTERM, then SIGKILL after the grace period; resolves once the guest has exited. */
  private async stopGuest(vm: Vm): Promise<void> {
    const child = vm.child;
    if (!child || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = vm.exited;
    child.kill("SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), this.stopGraceMs)))]);
    clearTimeout(timer);
    if (inTime) return;
    this.log({ event: "guest_killed", vm_id: vm.record.vm_id, reason: `no exit within ${this.stopGraceMs} ms of SIGTERM` });
    child.kill("SIGKILL");
    await exited;
  }

  private async remove(vm: Vm): Promise<void> {
    vm.stopping = true;
    this.clearTimers(vm);
    // A start in progress either gives up on seeing `stopping` or has a guest for stopGuest to stop.
    await vm.launching;
    await this.stopGuest(vm);
    // Retried: the guest's log may still be closing.
    await rm(vm.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
    this.vms.delete(vm.record.vm_id);
    await this.persist().catch((error: unknown) => this.log({ event: "persist_failed", message: errorMessage(error) }));
    this.log({ event: "vm_deleted", vm_id: vm.record.vm_id });
  }

  private async shutdown(): Promise<void> {
    try {
      await this.initialized;
    } catch {
      // Nothing was started.
    }
    const vms = [...this.vms.values()];
    for (const vm of vms) {
      vm.stopping = true;
      this.clearTimers(vm);
    }
    await Promise.all(vms.map((vm) => (vm.removal ?? vm.launching.then(() => this.stopGuest(vm))).catch(() => {})));
    for (const vm of vms) vm.record.pid = null;
    if (this.releaseLock) {
      await this.persist().catch((error: unknown) => this.log({ event: "persist_failed", message: errorMessage(error) }));
      await this.releaseLock();
    }
    this.log({ event: "spawner_closed", vms: this.vms.size });
  }
}
