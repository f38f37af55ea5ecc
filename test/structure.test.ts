// The code's shape, as issue #14 set it: no file under src/ over 450 lines, and imports run only
// downward through the layers below (an entry point wires the parts together from the top), so
// no two folders import each other. Read from the import statements themselves.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve('src');

/** Bottom to top. A module may import its own layer's or lower ones'. */
const LAYERS: string[][] = [
  ['domain', 'clock.ts', 'log.ts'],
  ['config.ts'],
  ['store', 'sandbox', 'cluster', 'metrics'],
  ['reports', 'gitops'],
  ['runner'],
  ['llm', 'schedule', 'ops'],
  ['slack'],
  ['local'],
  ['main.ts'],
  ['commands'],
  ['cli.ts'],
];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? files(p) : /\.ts$/.test(n) ? [p] : [];
  });
}

/** `runner` for src/runner/loop.ts, `config.ts` for src/config.ts. */
const unit = (file: string) => path.relative(SRC, file).split(path.sep)[0]!;
const layerOf = (u: string) => LAYERS.findIndex((l) => l.includes(u));

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s[^;]*?from\s+'(\.{1,2}\/[^']+)';/gms)) {
    out.push(path.resolve(path.dirname(file), m[1]!.replace(/\.js$/, '.ts')));
  }
  return out;
}

const all = files(SRC);

describe('code structure', () => {
  it('keeps every file under src/ at 450 lines or fewer', () => {
    const long = all.map((f) => [path.relative(SRC, f), readFileSync(f, 'utf8').split('\n').length] as const).filter(([, n]) => n > 450);
    expect(long).toEqual([]);
  });

  it('knows the layer of every folder and top-level file', () => {
    expect([...new Set(all.map(unit))].filter((u) => layerOf(u) < 0)).toEqual([]);
  });

  it('imports only from the same layer or below, and no two folders import each other', () => {
    const upward: string[] = [];
    const edges = new Set<string>();
    for (const f of all) {
      for (const target of imports(f)) {
        const from = unit(f);
        const to = unit(target);
        if (from === to) continue;
        edges.add(`${from} -> ${to}`);
        if (layerOf(to) > layerOf(from)) upward.push(`${path.relative(SRC, f)} -> ${path.relative(SRC, target)}`);
      }
    }
    expect(upward).toEqual([]);
    const mutual = [...edges].filter((e) => edges.has(e.split(' -> ').reverse().join(' -> ')));
    expect(mutual).toEqual([]);
    expect(edges.size).toBeGreaterThan(20); // the reading found the imports
  });

  it('has no import circle between files, not even through type-only imports', () => {
    const graph = new Map(all.map((f) => [f, imports(f).filter((t) => all.includes(t))]));
    // Depth-first search; a file met again while on the current path closes a circle.
    const circles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (f: string, trail: string[]): void => {
      state.set(f, 'open');
      for (const t of graph.get(f) ?? []) {
        if (state.get(t) === 'open') circles.push([...trail.slice(trail.indexOf(t)), t].map((x) => path.relative(SRC, x)).join(' -> '));
        else if (!state.has(t)) visit(t, [...trail, t]);
      }
      state.set(f, 'done');
    };
    for (const f of all) if (!state.has(f)) visit(f, [f]);
    expect(circles).toEqual([]);
  });

  it("assigns a run's phase, steps and targets in one module (src/runner/model/reduce.ts), never anywhere else", () => {
    const writer = path.join('runner', 'model', 'reduce.ts');
    const assigns =
      /(\.(phase|steps|targets)|\b(run|rec|live)\.(status|stage|data))\b[\w.?![\]']*(\.push\(|\s*(\?\?=|(?<![!<>=])=(?![=>])))|\bdelete (run|rec|live)\./;
    const writes = all
      .filter((f) => path.relative(SRC, f) !== writer)
      .flatMap((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .map((line, i) => [`${path.relative(SRC, f)}:${i + 1}`, line] as const)
          .filter(([, line]) => assigns.test(line)),
      );
    expect(writes).toEqual([]);
    // The pattern finds what the writer itself does, and what the old code did elsewhere.
    expect(
      ['run.steps = setStep(run.steps, key, {});', 'rec.data.rollback = x;', 'delete rec.pendingDecision;'].every((l) => assigns.test(l)),
    ).toBe(true);
    expect(assigns.test('if (run.phase.status === "running") return;')).toBe(false);
  });
});
