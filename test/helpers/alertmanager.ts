// A real Alertmanager (Debian's prometheus-alertmanager) on loopback, for the alerts gate: alerts
// are posted to its API v2 as Prometheus posts them when a rule fires.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './net.js';

export const ALERTMANAGER = process.env.ALERTMANAGER_PATH ?? '/usr/bin/prometheus-alertmanager';
export const haveAlertmanager = existsSync(ALERTMANAGER);

export interface Alertmanager {
  url: string;
  /** Posts an alert as firing since `startsAt` (ms). */
  fire(labels: Record<string, string>, startsAt: number): Promise<void>;
  close(): Promise<void>;
}

export async function startAlertmanager(): Promise<Alertmanager> {
  const dir = mkdtempSync(path.join(tmpdir(), 'shipbot-alertmanager-'));
  const config = path.join(dir, 'alertmanager.yml');
  writeFileSync(config, 'route:\n  receiver: none\nreceivers:\n  - name: none\n');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let log = '';
  const child: ChildProcess = spawn(
    ALERTMANAGER,
    [`--config.file=${config}`, `--storage.path=${dir}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address='],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (d) => (log += d));
  child.stderr?.on('data', (d) => (log += d));
  const end = Date.now() + 20_000;
  for (;;) {
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > end || child.exitCode !== null) throw new Error(`Alertmanager did not start:\n${log.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async fire(labels, startsAt) {
      const res = await fetch(`${url}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([
          { labels, startsAt: new Date(startsAt).toISOString(), endsAt: new Date(startsAt + 3_600_000 * 24 * 365).toISOString() },
        ]),
      });
      if (!res.ok) throw new Error(`posting the alert: ${res.status} ${await res.text()}`);
    },
    async close() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
