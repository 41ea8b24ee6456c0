// The agent store on Kysely: embedded SQLite (default) or PostgreSQL (several server processes on
// one database). One implementation; the schema's constraints decide every race.
import { mkdirSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect, sql } from "kysely";
import type { Generated, Selectable } from "kysely";
import pg from "pg";
import { defaultDataDir } from "../../../core/index.js";
import type { AgentApiState, AgentStartupPhase } from "../../../shared/agentApi.js";
import type { AgentRow, AgentStore, AllowlistAuditRow, AllowlistRow, NewAgent } from "./agentStore.js";

export interface AgentStoreOptions {
  /** `postgres://…`: use PostgreSQL. Takes precedence over `sqlitePath`. */
  databaseUrl?: string;
  /** The SQLite file (created with its directory if missing); default `<data dir>/server/agents.sqlite`. */
  sqlitePath?: string;
}

export const DEFAULT_SQLITE_PATH = join(defaultDataDir(), "server", "agents.sqlite");

type Engine = "sqlite" | "postgres";

/** agent_instances holds exactly the AgentRow fields (no generated columns). */
type AgentInstancesTable = AgentRow;

interface AllowlistTable {
  npub: string;
  /** boolean on PostgreSQL, 0 / 1 on SQLite (better-sqlite3 cannot bind booleans). */
  active: boolean | number;
  note: string | null;
  updated_by: string;
  max_agents: number;
  created_at: number;
  updated_at: number;
}

interface AllowlistAuditTable {
  id: Generated<number>;
  npub: string;
  action: AllowlistAuditRow["action"];
  actor: string;
  note: string | null;
  max_agents: number | null;
  at: number;
}

interface Nip98EventsTable {
  event_id: string;
  seen_at: number;
}

interface MigrationsTable {
  version: number;
  name: string;
  applied_at: number;
}

interface Schema {
  agent_instances: AgentInstancesTable;
  agent_allowlist: AllowlistTable;
  agent_allowlist_audit: AllowlistAuditTable;
  nip98_events: Nip98EventsTable;
  agent_store_migrations: MigrationsTable;
}

/** The partial unique index that allows one creating/ready row per owner. */
const ONE_ACTIVE_PER_OWNER = "agent_instances_one_active_per_owner";
const ACTIVE_PHASES: AgentApiState[] = ["creating", "ready"];
/** Key of the PostgreSQL advisory lock that serializes migrations across processes. */
const MIGRATION_LOCK_KEY = 0x62_75_72_72_6f_77; // "burrow"

interface Migration {
  version: number;
  name: string;
  up(db: Kysely<Schema>, engine: Engine): Promise<void>;
}

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "agents, allowlist, audit, nip98 replay guard",
    async up(db, engine) {
      await db.schema
        .createTable("agent_instances")
        .addColumn("agent_id", "text", (c) => c.primaryKey())
        .addColumn("agent_pubkey", "text", (c) => c.notNull())
        .addColumn("owner_npub", "text", (c) => c.notNull())
        .addColumn("vm_id", "text")
        .addColumn("phase", "text", (c) => c.notNull().check(sql`phase in ('creating', 'ready', 'error')`))
        .addColumn("startup_phase", "text", (c) => c.notNull())
        .addColumn("error", "text")
        .addColumn("secret_enc", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("updated_at", "bigint", (c) => c.notNull())
        .addUniqueConstraint("agent_instances_vm_id_unique", ["vm_id"])
        .execute();
      await db.schema
        .createIndex(ONE_ACTIVE_PER_OWNER)
        .on("agent_instances")
        .column("owner_npub")
        .unique()
        .where(sql<boolean>`phase in ('creating', 'ready')`)
        .execute();
      await db.schema.createIndex("agent_instances_owner_created").on("agent_instances").columns(["owner_npub", "created_at"]).execute();

      await db.schema
        .createTable("agent_allowlist")
        .addColumn("npub", "text", (c) => c.primaryKey())
        .addColumn("active", engine === "postgres" ? "boolean" : "integer", (c) =>
          engine === "postgres" ? c.notNull() : c.notNull().check(sql`active in (0, 1)`),
        )
        .addColumn("note", "text")
        .addColumn("updated_by", "text", (c) => c.notNull())
        .addColumn("max_agents", "integer", (c) => c.notNull().check(sql`max_agents >= 0`))
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("updated_at", "bigint", (c) => c.notNull())
        .execute();

      await db.schema
        .createTable("agent_allowlist_audit")
        .addColumn("id", engine === "postgres" ? "serial" : "integer", (c) => (engine === "postgres" ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn("npub", "text", (c) => c.notNull())
        .addColumn("action", "text", (c) => c.notNull().check(sql`action in ('add', 'update', 'remove', 'auto_add')`))
        .addColumn("actor", "text", (c) => c.notNull())
        .addColumn("note", "text")
        .addColumn("max_agents", "integer")
        .addColumn("at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("agent_allowlist_audit_npub").on("agent_allowlist_audit").columns(["npub", "id"]).execute();

      await db.schema
        .createTable("nip98_events")
        .addColumn("event_id", "text", (c) => c.primaryKey())
        .addColumn("seen_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("nip98_events_seen_at").on("nip98_events").column("seen_at").execute();
    },
  },
];

// ---- value conversion -------------------------------------------------------------------------

/** pg returns int8 (bigint columns, count(*)) as strings; ours are unix milliseconds and counts. */
function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`int8 value ${text} does not fit a JS number`);
  return value;
}

const pgTypes = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === pg.types.builtins.INT8 && format !== "binary" ? parseInt8 : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

function toAgentRow(row: Selectable<AgentInstancesTable>): AgentRow {
  return {
    agent_id: row.agent_id,
    agent_pubkey: row.agent_pubkey,
    owner_npub: row.owner_npub,
    vm_id: row.vm_id,
    phase: row.phase,
    startup_phase: row.startup_phase,
    error: row.error,
    secret_enc: row.secret_enc,
    created_at: Number(row.created_at),
    updated_at: Number(row.updated_at),
  };
}

function toAllowlistRow(row: Selectable<AllowlistTable>): AllowlistRow {
  return {
    npub: row.npub,
    active: Boolean(row.active),
    note: row.note,
    updated_by: row.updated_by,
    max_agents: Number(row.max_agents),
    created_at: Number(row.created_at),
    updated_at: Number(row.updated_at),
  };
}

function toAuditRow(row: Selectable<AllowlistAuditTable>): AllowlistAuditRow {
  return {
    id: Number(row.id),
    npub: row.npub,
    action: row.action,
    actor: row.actor,
    note: row.note,
    max_agents: row.max_agents === null ? null : Number(row.max_agents),
    at: Number(row.at),
  };
}

// ---- SQLite writers in one process --------------------------------------------------------------

// better-sqlite3 is synchronous: when a second connection in the same process waits for SQLite's
// write lock, its busy handler blocks the one thread the lock holder needs to finish. So writes to
// one file from one process queue here first; between processes, SQLite's lock and busy_timeout decide.
const sqliteWriteQueues = new Map<string | symbol, Promise<void>>();

function queueSqliteWrite<T>(key: string | symbol, write: () => Promise<T>): Promise<T> {
  const previous = sqliteWriteQueues.get(key) ?? Promise.resolve();
  const result = previous.then(write);
  const done = result.then(
    () => undefined,
    () => undefined,
  );
  sqliteWriteQueues.set(key, done);
  void done.then(() => {
    if (sqliteWriteQueues.get(key) === done) sqliteWriteQueues.delete(key);
  });
  return result;
}

// ---- the store ---------------------------------------------------------------------------------

function isActiveOwnerConflict(engine: Engine, error: unknown): boolean {
  if (engine === "sqlite") {
    // A partial unique index reports its columns: "UNIQUE constraint failed: agent_instances.owner_npub".
    return error instanceof Database.SqliteError && error.code === "SQLITE_CONSTRAINT_UNIQUE" && error.message.includes("agent_instances.owner_npub");
  }
  return error instanceof pg.DatabaseError && error.code === "23505" && error.constraint === ONE_ACTIVE_PER_OWNER;
}

class KyselyAgentStore implements AgentStore {
  constructor(
    private readonly db: Kysely<Schema>,
    private readonly engine: Engine,
    /** SQLite only: identifies the file, for the in-process write queue. */
    private readonly sqliteFile: string | symbol | null,
  ) {}

  private bool(value: boolean): boolean | number {
    return this.engine === "sqlite" ? Number(value) : value;
  }

  /** One write statement. */
  private write<T>(statement: (db: Kysely<Schema>) => Promise<T>): Promise<T> {
    return this.sqliteFile === null ? statement(this.db) : queueSqliteWrite(this.sqliteFile, () => statement(this.db));
  }

  /**
   * Several statements, atomically. On SQLite the transaction takes the write lock up front
   * (BEGIN IMMEDIATE), so another process waits at BEGIN (busy_timeout) instead of failing later
   * with SQLITE_BUSY when a read transaction tries to become a write transaction.
   */
  private writeTransaction<T>(body: (db: Kysely<Schema>) => Promise<T>): Promise<T> {
    const sqliteFile = this.sqliteFile;
    if (sqliteFile === null) return this.db.transaction().execute(body);
    return queueSqliteWrite(sqliteFile, () =>
      this.db.connection().execute(async (connection) => {
        await sql`begin immediate`.execute(connection);
        let result: T;
        try {
          result = await body(connection);
        } catch (error) {
          // SQLite rolls some failures back by itself; then this rollback fails, and the first error is the one to report.
          await sql`rollback`.execute(connection).catch(() => undefined);
          throw error;
        }
        await sql`commit`.execute(connection);
        return result;
      }),
    );
  }

  async migrate(): Promise<void> {
    await this.writeTransaction(async (db) => {
      if (this.engine === "postgres") await sql`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`.execute(db);
      await db.schema
        .createTable("agent_store_migrations")
        .ifNotExists()
        .addColumn("version", "integer", (c) => c.primaryKey())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("applied_at", "bigint", (c) => c.notNull())
        .execute();
      const applied = new Set((await db.selectFrom("agent_store_migrations").select("version").execute()).map((row) => Number(row.version)));
      const known = Math.max(...MIGRATIONS.map((migration) => migration.version));
      const newest = Math.max(0, ...applied);
      if (newest > known) throw new Error(`the agent database is at schema version ${newest}, newer than this server's ${known}: upgrade the server`);
      for (const migration of MIGRATIONS) {
        if (applied.has(migration.version)) continue;
        await migration.up(db, this.engine);
        await db.insertInto("agent_store_migrations").values({ version: migration.version, name: migration.name, applied_at: Date.now() }).execute();
      }
    });
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  async getAllowlist(npub: string): Promise<AllowlistRow | null> {
    const row = await this.db.selectFrom("agent_allowlist").selectAll().where("npub", "=", npub).executeTakeFirst();
    return row ? toAllowlistRow(row) : null;
  }

  async setAllowlist(
    entry: { npub: string; active: boolean; note: string | null; max_agents: number },
    actor: string,
    action: AllowlistAuditRow["action"],
  ): Promise<void> {
    const now = Date.now();
    const active = this.bool(entry.active);
    await this.writeTransaction(async (db) => {
      await db
        .insertInto("agent_allowlist")
        .values({ npub: entry.npub, active, note: entry.note, updated_by: actor, max_agents: entry.max_agents, created_at: now, updated_at: now })
        .onConflict((conflict) => conflict.column("npub").doUpdateSet({ active, note: entry.note, updated_by: actor, max_agents: entry.max_agents, updated_at: now }))
        .execute();
      await db.insertInto("agent_allowlist_audit").values({ npub: entry.npub, action, actor, note: entry.note, max_agents: entry.max_agents, at: now }).execute();
    });
  }

  async addAllowlistIfMissing(entry: { npub: string; note: string | null; max_agents: number }, actor: string): Promise<boolean> {
    const now = Date.now();
    return this.writeTransaction(async (db) => {
      const inserted = await db
        .insertInto("agent_allowlist")
        .values({ npub: entry.npub, active: this.bool(true), note: entry.note, updated_by: actor, max_agents: entry.max_agents, created_at: now, updated_at: now })
        .onConflict((conflict) => conflict.column("npub").doNothing())
        .executeTakeFirst();
      if (!inserted.numInsertedOrUpdatedRows) return false;
      await db.insertInto("agent_allowlist_audit").values({ npub: entry.npub, action: "auto_add", actor, note: entry.note, max_agents: entry.max_agents, at: now }).execute();
      return true;
    });
  }

  async listAllowlist(): Promise<AllowlistRow[]> {
    return (await this.db.selectFrom("agent_allowlist").selectAll().orderBy("npub").execute()).map(toAllowlistRow);
  }

  async listAllowlistAudit(npub?: string): Promise<AllowlistAuditRow[]> {
    let query = this.db.selectFrom("agent_allowlist_audit").selectAll();
    if (npub !== undefined) query = query.where("npub", "=", npub);
    return (await query.orderBy("id").execute()).map(toAuditRow);
  }

  async insertAgent(row: NewAgent): Promise<"inserted" | "conflict"> {
    try {
      await this.write((db) =>
        db
          .insertInto("agent_instances")
          .values({
            agent_id: row.agent_id,
            agent_pubkey: row.agent_pubkey,
            owner_npub: row.owner_npub,
            vm_id: null,
            phase: "creating",
            startup_phase: row.startup_phase,
            error: null,
            secret_enc: row.secret_enc,
            created_at: row.created_at,
            updated_at: row.created_at,
          })
          .execute(),
      );
      return "inserted";
    } catch (error) {
      if (isActiveOwnerConflict(this.engine, error)) return "conflict";
      throw error;
    }
  }

  async getAgent(agentId: string): Promise<AgentRow | null> {
    const row = await this.db.selectFrom("agent_instances").selectAll().where("agent_id", "=", agentId).executeTakeFirst();
    return row ? toAgentRow(row) : null;
  }

  async getActiveAgent(ownerNpub: string): Promise<AgentRow | null> {
    const row = await this.db
      .selectFrom("agent_instances")
      .selectAll()
      .where("owner_npub", "=", ownerNpub)
      .where("phase", "in", ACTIVE_PHASES)
      .executeTakeFirst();
    return row ? toAgentRow(row) : null;
  }

  async getLatestAgent(ownerNpub: string): Promise<AgentRow | null> {
    const row = await this.db
      .selectFrom("agent_instances")
      .selectAll()
      .where("owner_npub", "=", ownerNpub)
      .orderBy("created_at", "desc")
      // Within one millisecond the active row is the current one.
      .orderBy(sql`case when phase in ('creating', 'ready') then 0 else 1 end`)
      .orderBy("agent_id")
      .executeTakeFirst();
    return row ? toAgentRow(row) : null;
  }

  async listAgents(): Promise<AgentRow[]> {
    return (await this.db.selectFrom("agent_instances").selectAll().orderBy("created_at").orderBy("agent_id").execute()).map(toAgentRow);
  }

  async setVm(agentId: string, vmId: string, startupPhase: AgentStartupPhase): Promise<boolean> {
    const result = await this.write((db) =>
      db
        .updateTable("agent_instances")
        .set({ vm_id: vmId, startup_phase: startupPhase, updated_at: Date.now() })
        .where("agent_id", "=", agentId)
        .where("vm_id", "is", null)
        .executeTakeFirst(),
    );
    return result.numUpdatedRows > 0n;
  }

  async transition(agentId: string, from: AgentApiState[], to: { phase: AgentApiState; startup_phase: AgentStartupPhase; error?: string | null }): Promise<boolean> {
    // An error row never leaves error: `error` is a valid source only when the target is error too.
    const sources = from.filter((phase) => phase !== "error" || to.phase === "error");
    if (sources.length === 0) return false;
    const result = await this.write((db) =>
      db
        .updateTable("agent_instances")
        .set({ phase: to.phase, startup_phase: to.startup_phase, updated_at: Date.now(), ...(to.error !== undefined ? { error: to.error } : {}) })
        .where("agent_id", "=", agentId)
        .where("phase", "in", sources)
        .executeTakeFirst(),
    );
    return result.numUpdatedRows > 0n;
  }

  async setStartupPhase(agentId: string, startupPhase: AgentStartupPhase): Promise<void> {
    await this.write((db) =>
      db
        .updateTable("agent_instances")
        .set({ startup_phase: startupPhase, updated_at: Date.now() })
        .where("agent_id", "=", agentId)
        .where("phase", "=", "creating")
        .execute(),
    );
  }

  async countAgentsSince(ownerNpub: string, sinceMs: number): Promise<number> {
    const row = await this.db
      .selectFrom("agent_instances")
      .select((eb) => eb.fn.countAll().as("count"))
      .where("owner_npub", "=", ownerNpub)
      .where("created_at", ">=", sinceMs)
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  async activeVmIds(): Promise<string[]> {
    const rows = await this.db
      .selectFrom("agent_instances")
      .select("vm_id")
      .where("phase", "in", ACTIVE_PHASES)
      .where("vm_id", "is not", null)
      .orderBy("vm_id")
      .execute();
    return rows.flatMap((row) => (row.vm_id === null ? [] : [row.vm_id]));
  }

  async rememberAuthEvent(eventId: string, at: number): Promise<boolean> {
    const result = await this.write((db) =>
      db
        .insertInto("nip98_events")
        .values({ event_id: eventId, seen_at: at })
        .onConflict((conflict) => conflict.column("event_id").doNothing())
        .executeTakeFirst(),
    );
    return Boolean(result.numInsertedOrUpdatedRows);
  }

  async pruneAuthEvents(before: number): Promise<void> {
    await this.write((db) => db.deleteFrom("nip98_events").where("seen_at", "<", before).execute());
  }
}

function openSqlite(path: string): KyselyAgentStore {
  const inMemory = path === ":memory:" || path === "";
  if (!inMemory) mkdirSync(dirname(path), { recursive: true });
  const database = new Database(path, { timeout: 5000 });
  database.pragma("busy_timeout = 5000");
  database.pragma("journal_mode = WAL");
  database.pragma("synchronous = NORMAL");
  database.pragma("foreign_keys = ON");
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database }) });
  return new KyselyAgentStore(db, "sqlite", inMemory ? Symbol(path) : realpathSync(path));
}

function openPostgres(databaseUrl: string): KyselyAgentStore {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10, types: pgTypes });
  // An idle connection that dies (server restart) is dropped from the pool and reported here; the
  // next query opens a new one. Without a listener the error event would end the process.
  pool.on("error", () => undefined);
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  return new KyselyAgentStore(db, "postgres", null);
}

/** Opens the store: PostgreSQL when `databaseUrl` is given, else SQLite. Call `migrate()` before use. */
export async function openAgentStore(options: AgentStoreOptions): Promise<AgentStore> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl);
  return openSqlite(options.sqlitePath ?? DEFAULT_SQLITE_PATH);
}
