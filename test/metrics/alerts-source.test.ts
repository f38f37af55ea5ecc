// Where firing alerts are read when there is no Alertmanager: a real Prometheus evaluating a real
// rule file. Its ALERTS / ALERTS_FOR_STATE series give each firing alert and when it began; a
// pending one (its `for` not yet over) is not firing; another service's is filtered out.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrometheusAlertSource } from '../../src/metrics/alerts.js';
import { freePort } from '../helpers/net.js';
import { promBin, until } from './real-prometheus.js';

if (!promBin) console.warn('test/metrics/alerts-source.test.ts skipped: no prometheus binary (apt-get install prometheus)');

describe.skipIf(!promBin)("Prometheus's ALERTS as the alert source", () => {
  let prom: ChildProcess;
  let url: string;
  let dir: string;
  const began = Date.now();

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'shipbot-prom-alerts-'));
    const rule = (alert: string, labels: string, extra = '') =>
      `      - alert: ${alert}\n        expr: vector(1)\n${extra}        labels: { ${labels} }\n`;
    writeFileSync(
      path.join(dir, 'rules.yml'),
      'groups:\n  - name: shipbot\n    interval: 1s\n    rules:\n' +
        rule('CheckoutDown', 'severity: critical, namespace: production, service: checkout') +
        rule('CheckoutSlowSoon', 'severity: warning, namespace: production, service: checkout', '        for: 1h\n') +
        rule('SearchDown', 'severity: critical, namespace: production, service: search'),
    );
    writeFileSync(path.join(dir, 'prometheus.yml'), `global: { evaluation_interval: 1s }\nrule_files: [${path.join(dir, 'rules.yml')}]\n`);
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    prom = spawn(
      promBin,
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      {
        stdio: 'ignore',
      },
    );
    await until('Prometheus ready', 20_000, async () => ((await fetch(`${url}/-/ready`).catch(() => undefined))?.ok ? true : undefined));
  });

  afterAll(async () => {
    if (prom && prom.exitCode === null) {
      const exited = new Promise((r) => prom.once('exit', r));
      prom.kill('SIGTERM');
      await exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("reads the service's firing alerts with when they began; pending and other services' alerts are left out", async () => {
    const source = new PrometheusAlertSource(url);
    const alerts = await until('the rule to fire', 20_000, async () => {
      const a = await source.firing({ namespace: 'production', service: 'checkout' });
      return a.length ? a : undefined;
    });
    expect(alerts.map((a) => [a.name, a.severity])).toEqual([['CheckoutDown', 'critical']]);
    expect(alerts[0]!.startsAt).toBeGreaterThanOrEqual(began - 2000);
    expect(alerts[0]!.startsAt).toBeLessThanOrEqual(Date.now());
  });
});
