import assert from "node:assert/strict";
import { test } from "node:test";
import Database from "better-sqlite3";
import { MIGRATIONS, SCHEMA_VERSION, SchemaTooNewError, runMigrations, userVersion, type Migration } from "./migrations.js";

function countingMigrations(runs: number[]): Migration[] {
  return [
    { version: 1, up: (db) => (runs.push(1), db.exec("CREATE TABLE a (x INTEGER)")) },
    { version: 2, up: (db) => (runs.push(2), db.exec("CREATE TABLE b (x INTEGER)")) },
  ];
}

const tableNames = (db: Database.Database): string[] =>
  db
    .prepare<[], { name: string }>("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
    .all()
    .map((row) => row.name);

test("each_migration_runs_once_and_later_runs_only_apply_new_ones", () => {
  const db = new Database(":memory:");
  const runs: number[] = [];
  const [first, second] = countingMigrations(runs);
  assert.ok(first && second);
  assert.deepEqual(runMigrations(db, [first]), { from: 0, to: 1 });
  assert.deepEqual(runMigrations(db, [first, second]), { from: 1, to: 2 });
  assert.deepEqual(runMigrations(db, [first, second]), { from: 2, to: 2 });
  assert.deepEqual(runs, [1, 2]);
  assert.equal(userVersion(db), 2);
  db.close();
});

test("a_failing_migration_rolls_back_its_changes_and_its_version", () => {
  const db = new Database(":memory:");
  const runs: number[] = [];
  const [first, second] = countingMigrations(runs);
  assert.ok(first && second);
  const broken: Migration = {
    version: 2,
    up: (d) => {
      d.exec("CREATE TABLE b (x INTEGER)");
      throw new Error("migration failed");
    },
  };
  assert.throws(() => runMigrations(db, [first, broken]), /migration failed/);
  assert.equal(userVersion(db), 1);
  assert.deepEqual(tableNames(db), ["a"]);
  runMigrations(db, [first, second]);
  assert.equal(userVersion(db), 2);
  assert.deepEqual(tableNames(db), ["a", "b"]);
  db.close();
});

test("a_database_newer_than_the_known_migrations_is_refused", () => {
  const db = new Database(":memory:");
  db.pragma("user_version = 5");
  assert.throws(() => runMigrations(db, countingMigrations([])), SchemaTooNewError);
  db.close();
});

test("migration_versions_must_be_contiguous_from_one", () => {
  const db = new Database(":memory:");
  assert.throws(() => runMigrations(db, [{ version: 2, up: () => undefined }]), /numbered 2/);
  assert.equal(userVersion(db), 0);
  db.close();
});

test("the_shipped_migrations_build_the_schema_with_foreign_keys_valid", () => {
  const db = new Database(":memory:");
  runMigrations(db);
  assert.equal(userVersion(db), SCHEMA_VERSION);
  assert.equal(SCHEMA_VERSION, MIGRATIONS.length);
  assert.deepEqual(tableNames(db), [
    "epoch_keys",
    "groups",
    "invites",
    "key_packages",
    "messages",
    "messages_fts",
    "messages_fts_config",
    "messages_fts_data",
    "messages_fts_docsize",
    "messages_fts_idx",
    "meta",
    "processed_events",
    "profiles",
    "sqlite_sequence",
  ]);
  assert.deepEqual(db.prepare("PRAGMA foreign_key_check").all(), []);
  db.close();
});
