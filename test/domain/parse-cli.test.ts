// `shipbot parse` as a person runs it: a child process, JSON on stdout, exit codes 0 / 1.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = path.join(root, 'bin/shipbot.js');
const dir = mkdtempSync(path.join(tmpdir(), 'shipbot-parse-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function shipbot(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const clean = { ...process.env, SLACK_BOT_TOKEN: '', SLACK_APP_TOKEN: '', ANTHROPIC_API_KEY: '', SHIPBOT_CONFIG: '', ...env };
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: root, env: clean, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

// Each case is a separate process; run them side by side to keep the file fast.
describe.concurrent('shipbot parse', () => {
  it('prints the request as JSON and exits 0', async () => {
    const r = await shipbot(['parse', 'deploy checkout v1.2.3 canary --guidance "zero downtime"']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json).toMatchObject({
      intent: 'deploy',
      service: 'checkout',
      version: 'v1.2.3',
      strategy: 'canary',
      environment: 'production',
      guidance: 'zero downtime',
      missing: [],
    });
    expect(r.stdout).toContain('\n  "intent"'); // pretty-printed
  });

  it('takes the words unquoted too', async () => {
    const r = await shipbot(['parse', 'rollback', 'payments', 'in', 'staging']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ intent: 'rollback', service: 'payments', environment: 'staging' });
  });

  it('exits 1 with a readable reason for chatter, and prints no JSON', async () => {
    const r = await shipbot(['parse', "don't deploy on Fridays"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/negation/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('exits 1 for an injection attempt', async () => {
    const r = await shipbot(['parse', 'deploy checkout v1;rm -rf /']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/can never be part of a service or version/);
  });

  it('honours SHIPBOT_CONFIG', async () => {
    const shipped = readFileSync(path.join(root, 'data/shipbot.yml'), 'utf8');
    const file = path.join(dir, 'custom.yml');
    writeFileSync(
      file,
      shipped
        .replace('- name: search', '- name: billing')
        .replace('aliases: [search-api, search-service, recommendation-engine, recommendations, reco]', 'aliases: [invoices]'),
    );
    const r = await shipbot(['parse', 'deploy invoices 4.0.0'], { SHIPBOT_CONFIG: file });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ service: 'billing', version: '4.0.0' });
    const missing = await shipbot(['parse', 'deploy checkout v1'], { SHIPBOT_CONFIG: path.join(dir, 'nope.yml') });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/file not found/);
  });
});
