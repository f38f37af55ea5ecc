// `npm run bench`: runs every benchmark in bench/, prints one table and writes data/bench.json.
// Each bench module exports one `bench*()` function returning figures with their units.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { readEnv } from '../config.js';

export interface Figure {
  name: string;
  value: number;
  unit: string;
  note?: string;
}

/** Module file in bench/ and the function it exports, in the order they run. */
const BENCHES: Array<[file: string, fn: string]> = [
  ['parse.ts', 'benchParse'],
  ['sandbox.ts', 'benchSandbox'],
  ['analysis.ts', 'benchAnalysis'],
  ['rollback.ts', 'benchRollback'],
  ['routing.ts', 'benchRouting'],
  ['runner.ts', 'benchRunner'],
  ['decisions.ts', 'benchDecisions'],
  ['slack.ts', 'benchSlack'],
];

export async function run(args: string[]): Promise<number> {
  const only = args.filter((a) => !a.startsWith('-'));
  const results: Array<Figure & { bench: string }> = [];
  let failed = 0;
  for (const [file, fn] of BENCHES) {
    const name = file.replace(/\.ts$/, '');
    if (only.length && !only.includes(name)) continue;
    const url = pathToFileURL(path.resolve('bench', file)).href;
    let mod: Record<string, unknown>;
    try {
      mod = (await import(url)) as Record<string, unknown>;
    } catch (err) {
      console.error(`bench ${name}: cannot load (${(err as Error).message.split('\n')[0]})`);
      failed++;
      continue;
    }
    const bench = mod[fn];
    if (typeof bench !== 'function') {
      console.error(`bench ${name}: bench/${file} does not export ${fn}()`);
      failed++;
      continue;
    }
    process.stderr.write(`running ${name}…\n`);
    try {
      for (const f of (await bench()) as Figure[]) results.push({ bench: name, ...f });
    } catch (err) {
      console.error(`bench ${name} failed: ${(err as Error).stack ?? err}`);
      failed++;
    }
  }
  printTable(results);
  const dataDir = path.resolve(readEnv().SHIPBOT_DATA_DIR);
  mkdirSync(dataDir, { recursive: true });
  const out = path.join(dataDir, 'bench.json');
  // A partial run (`npm run bench routing`) keeps the other benches' last figures.
  const ran = new Set(results.map((r) => r.bench));
  const kept = only.length ? previousResults(out).filter((r) => !ran.has(r.bench)) : [];
  writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), node: process.version, results: [...kept, ...results] }, null, 2));
  console.log(`\nwrote ${out}`);
  return failed ? 1 : 0;
}

function previousResults(file: string): Array<Figure & { bench: string }> {
  try {
    const prev = JSON.parse(readFileSync(file, 'utf8')) as { results?: Array<Figure & { bench: string }> };
    return Array.isArray(prev.results) ? prev.results : [];
  } catch {
    return [];
  }
}

function printTable(rows: Array<Figure & { bench: string }>): void {
  const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3));
  const cells = rows.map((r) => [r.bench, r.name, fmt(r.value), r.unit, r.note ?? '']);
  const head = ['bench', 'figure', 'value', 'unit', 'note'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) =>
    c
      .map((s, i) => (i === 2 ? s.padStart(widths[i]!) : s.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const c of cells) console.log(line(c));
}
