#!/usr/bin/env node
// `npm test`'s vitest part: the rest of the suite first, on two workers, then the real-time suites
// (vitest.config.ts REAL_TIME) all at once, their lines prefixed. Run beside the CPU-heavy rest on
// a 2-core machine, a real Prometheus missed scrapes and a healthy release read as slower; alone,
// their minutes of waiting overlap with each other. Fails when either fails. With arguments
// (`npm test -- test/slack`), one vitest runs what they select, from either group.
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
const rest = await vitest('rest');
const realTime = await vitest('real-time', '[real-time] ');
if (realTime !== 0) console.error(`the real-time suites failed (exit ${realTime})`);
if (rest !== 0) console.error(`the test suite failed (exit ${rest})`);
process.exit(realTime || rest);
