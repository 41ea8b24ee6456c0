// bench/results.json: one object per measurement, merged with the entries other benchmarks wrote.
import { readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface Measurement {
  name: string;
  value: number;
  unit: string;
  ratio?: number;
}

const resultsPath = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "bench", "results.json");

export async function recordResults(measurements: Measurement[]): Promise<void> {
  let existing: Measurement[];
  try {
    existing = JSON.parse(await readFile(resultsPath, "utf8")) as Measurement[];
  } catch {
    existing = [];
  }
  const names = new Set(measurements.map((m) => m.name));
  const merged = [...existing.filter((m) => !names.has(m.name)), ...measurements];
  await writeFile(resultsPath, JSON.stringify(merged, null, 2) + "\n");
}

export function printTable(measurements: Measurement[]): void {
  const rows = measurements.map((m) => [m.name, m.value.toFixed(m.unit === "requests" ? 0 : 2), m.unit, m.ratio === undefined ? "" : m.ratio.toFixed(2)]);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...[["measurement", "value", "unit", "ratio"], ...rows].map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((cell, i) => (i === 1 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join("  ");
  console.log(line(["measurement", "value", "unit", "ratio"]));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const row of rows) console.log(line(row));
}
