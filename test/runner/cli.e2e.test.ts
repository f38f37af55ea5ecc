// The terminal front end as a user runs it: `shipbot deploy … --yes --sandbox`, then `runs` and
// `report`. Separate processes, exit codes checked.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'shipbot-cli-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function shipbot(
  args: string[],
  dir = dataDir,
  extraEnv: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [path.join(root, 'bin/shipbot.js'), ...args], {
      cwd: root,
      env: { ...process.env, SHIPBOT_DATA_DIR: dir, SHIPBOT_SPEED: '300', LOG_LEVEL: 'error', KUBECONFIG: '', ...extraEnv },
      timeout: 90_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('shipbot deploy / runs / report', () => {
  it('every command exits with the reason when its store cannot open (deploy --sandbox used to hang)', async () => {
    const broken = mkdtempSync(path.join(os.tmpdir(), 'shipbot-cli-broken-'));
    try {
      writeFileSync(path.join(broken, 'shipbot.db'), 'this is not a database');
      for (const args of [['deploy', 'deploy checkout v1.2.3 canary', '--yes', '--sandbox'], ['runs'], ['report', 'r-1']]) {
        const r = await shipbot(args, broken);
        expect(r.code, args.join(' ')).toBe(1);
        expect(r.stderr, args.join(' ')).toMatch(/cannot open the database .*shipbot\.db: the file is not a Shipbot database/);
      }
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });

  it('exits 0 on success and 2 when rolled back; runs lists both; report prints the Markdown', async () => {
    const answers = path.join(dataDir, 'answers.json');
    writeFileSync(answers, JSON.stringify({ strategy: 'rolling', observationMin: 0 }));
    const ok = await shipbot(['deploy', 'deploy search v2.0.0', '--yes', '--sandbox', '--answers', answers]);
    expect(ok.code, ok.stderr + ok.stdout).toBe(0);
    expect(ok.stdout).toMatch(/✓ Promote new version/);
    const bad = await shipbot(['deploy', 'deploy checkout v1.2.3-errors canary', '--yes', '--sandbox']);
    expect(bad.code, bad.stderr + bad.stdout).toBe(2);
    expect(bad.stdout).toMatch(/❌ Staging regression gate — error rate/);

    const runs = await shipbot(['runs']);
    expect(runs.code).toBe(0);
    expect(runs.stdout).toMatch(/checkout\s+production\s+v1\.2\.3-errors\s+canary\s+rolled-back/);
    expect(runs.stdout).toMatch(/search\s+production\s+v2\.0\.0\s+rolling\s+succeeded/);
    const id = /(r-[0-9a-f]{8})\s.*checkout/.exec(runs.stdout)![1]!;
    const report = await shipbot(['report', id]);
    expect(report.code).toBe(0);
    expect(report.stdout).toMatch(/^# Deployment report: checkout v1\.2\.3-errors → production/);
    expect((await shipbot(['report', id, '--incident'])).stdout).toMatch(/^# Incident:/);
    expect((await shipbot(['report', 'r-nope'])).code).toBe(1);
  });

  it('with no terminal, a decision that needs a person rolls back (exit 2) unless --on-decision says wait (exit 3, the run kept) or accept', async () => {
    // 1 request a second: the canary is too quiet to judge, so the judge asks a person.
    const quiet = { SHIPBOT_SANDBOX_RPS: '1' };
    const dir = mkdtempSync(path.join(os.tmpdir(), 'shipbot-cli-decide-'));
    try {
      const rolled = await shipbot(['deploy', 'deploy checkout v1.2.3 canary', '--yes', '--sandbox'], dir, quiet);
      expect(rolled.code, rolled.stderr + rolled.stdout).toBe(2);
      expect(rolled.stdout).toMatch(
        /A decision is needed \(too little traffic on canary to judge.*\); no terminal to ask on: rolling back \(--on-decision rollback\)/,
      );
      const waiting = await shipbot(['deploy', 'deploy search v1.2.3 canary', '--yes', '--sandbox', '--on-decision', 'wait'], dir, quiet);
      expect(waiting.code, waiting.stderr + waiting.stdout).toBe(3);
      expect(waiting.stdout).toMatch(/Run r-[0-9a-f]{8} is waiting for a decision: `shipbot start` picks it up/);
      expect((await shipbot(['runs'], dir)).stdout).toMatch(/search\s+production\s+v1\.2\.3\s+canary\s+awaiting-decision/);
      const accepted = await shipbot(['deploy', 'deploy payments v1.2.3 canary', '--yes', '--sandbox', '--on-decision=accept'], dir, quiet);
      expect(accepted.code, accepted.stderr + accepted.stdout).toBe(0);
      expect(accepted.stdout).toMatch(/no terminal to ask on: accepting \(--on-decision accept\)/);
      const bad = await shipbot(['deploy', 'deploy checkout v1.2.3', '--yes', '--sandbox', '--on-decision', 'maybe'], dir);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/--on-decision takes rollback, wait, accept \(got maybe\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 1 with a readable reason for a bad request or an unconfirmed plan without a terminal', async () => {
    const bad = await shipbot(['deploy', 'deploy checkoot', '--yes', '--sandbox']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/shipbot deploy: /);
    const noYes = await shipbot(['deploy', 'deploy checkout v1.2.3', '--sandbox']);
    expect(noYes.code).toBe(1);
    expect(noYes.stderr).toMatch(/pass --yes/);
  });
});
