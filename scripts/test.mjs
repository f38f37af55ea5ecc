#!/usr/bin/env node
// `npm test`'s vitest part: the rest of the suite first, on two workers, then each group of
// vitest.config.ts APART (the real-time suites, all at once; then the two-process replicas suite),
// their lines prefixed. Run beside the CPU-heavy rest on a 2-core machine, a real Prometheus missed
// scrapes and a healthy release read as slower; apart, their minutes of waiting overlap with each
// other. Fails when any fails. With arguments (`npm test -- test/slack`), one vitest runs what
// they select, from any group.
import { spawn } from 'node:child_process';

const args = process.argv.slice(2);
function vitest(group, prefix) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', ...args], {
      env: group ? { ...process.env, SHIPBOT_TEST_GROUP: group } : process.env,
      stdio: prefix ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    });
    if (prefix) {
      for (const stream of [child.stdout, child.stderr]) {
        let rest = '';
        stream.on('data', (chunk) => {
          const lines = (rest + chunk).split('\n');
          rest = lines.pop();
          for (const line of lines) process.stdout.write(`${prefix}${line}\n`);
        });
        stream.on('end', () => rest && process.stdout.write(`${prefix}${rest}\n`));
      }
    }
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

if (args.length) process.exit(await vitest(''));
const codes = { rest: await vitest('rest') };
for (const group of ['real-time', 'processes']) codes[group] = await vitest(group, `[${group}] `);
const failed = Object.entries(codes).filter(([, code]) => code !== 0);
for (const [group, code] of failed) console.error(`the ${group} suites failed (exit ${code})`);
process.exit(failed.length ? 1 : 0);
