// Two Shipbot processes (`bin/shipbot.js start`, Slack over HTTP) on one sandbox cluster, sharing
// a real Postgres and read by a real Prometheus, as two pods behind one Service would be. Slack is
// the Web API double; each press goes, signed, to the replica the test names. The Lease timings
// are the defaults (client-go's: 15 s, renewed every 2 s). What each replica wrote is read where
// an operator would read it: the API server's audit log (each replica's User-Agent) and Postgres's
// statement log (each replica's application_name).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ScaledClock } from '../../src/clock.js';
import { parseConfig } from '../../src/config.js';
import { CataloguePrometheus } from '../../src/metrics/index.js';
import type { AuditEvent } from '../../src/sandbox/audit.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { type SlackDouble, startSlackDouble } from '../../src/slack/double/index.js';
import { PgStore } from '../../src/store/index.js';
import { freePort } from '../helpers/net.js';
import { havePostgres, NO_POSTGRES, type Postgres, startPostgres } from '../helpers/postgres.js';
import { promBin, startPrometheus, type RealPrometheus } from '../metrics/real-prometheus.js';

const SCRAPE_SEC = 5;
const LEASE_MS = 15_000;
const RETRY_MS = 2_000;
const root = path.resolve(import.meta.dirname, '../..');
const missing = !havePostgres ? NO_POSTGRES : !promBin ? 'no `prometheus` on PATH (apt-get install prometheus; .ci/run does)' : '';
if (missing) console.warn(`two Shipbot processes: skipped: ${missing}`);

/** The shipped config, production only, with windows a few scrapes long so a canary takes about two minutes. */
function configYaml(): string {
  const raw = parse(readFileSync(path.join(root, 'data/shipbot.yml'), 'utf8'));
  Object.assign(raw.defaults, {
    canarySteps: [25, 50, 100],
    monitoringIntervalSec: SCRAPE_SEC,
    stageWindowSec: 6 * SCRAPE_SEC,
    observationMin: { low: 0.5, medium: 0.5, high: 0.5 },
  });
  raw.prometheus = { scrapeIntervalSec: SCRAPE_SEC };
  for (const s of raw.services) delete s.environments.staging;
  return stringify(raw);
}

interface Proc {
  name: string;
  url: string;
  child: ChildProcess;
  log(): string;
  exited: Promise<number | null>;
}

describe.skipIf(Boolean(missing))('two Shipbot processes on one cluster and one Postgres', () => {
  let pg: Postgres;
  let sandbox: Sandbox;
  let prom: RealPrometheus;
  let double: SlackDouble;
  let store: PgStore;
  let dbUrl: string;
  const dir = mkdtempSync(path.join(tmpdir(), 'shipbot-two-procs-'));
  const procs: Proc[] = [];

  beforeAll(async () => {
    pg = await startPostgres({ logWrites: true });
    dbUrl = await pg.database();
    writeFileSync(path.join(dir, 'shipbot.yml'), configYaml());
    const config = parseConfig(readFileSync(path.join(dir, 'shipbot.yml'), 'utf8'));
    sandbox = await startSandbox({ clock: new ScaledClock(1), demo: true, warm: true, config, podStartMs: 1000 });
    writeFileSync(path.join(dir, 'kubeconfig'), sandbox.kubeconfigYaml());
    prom = await startPrometheus(sandbox, SCRAPE_SEC);
    double = await startSlackDouble();
    // Two scrapes of every pod, so a rate over four intervals has points from the start.
    const metrics = new CataloguePrometheus(prom.url, config, { clock: new ScaledClock(1) });
    await until(
      'web in Prometheus',
      90_000,
      async () => (await metrics.sample({ namespace: 'production', service: 'web', track: '' }, 4 * SCRAPE_SEC)).ok,
    );
    await until('two scrapes of every target', 60_000, async () => {
      const r = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent('min(count_over_time(up[5m])) >= 2')}`);
      return ((await r.json()) as { data: { result: unknown[] } }).data.result.length > 0;
    });
    store = PgStore.connect(dbUrl);
  }, 180_000);

  afterAll(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    await store?.close();
    await double?.close();
    await prom?.close();
    await sandbox?.close();
    await pg?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** `shipbot start` as a pod named `name` would run it (HOSTNAME, POD_NAMESPACE from the Downward API). */
  async function start(name: string): Promise<Proc> {
    const port = await freePort();
    let out = '';
    const child = spawn(process.execPath, [path.join(root, 'bin/shipbot.js'), 'start'], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        HOSTNAME: name,
        POD_NAMESPACE: 'default',
        PORT: String(port),
        LOG_LEVEL: 'info',
        SHIPBOT_CONFIG: path.join(dir, 'shipbot.yml'),
        SHIPBOT_DATA_DIR: path.join(dir, name),
        SHIPBOT_DATABASE_URL: `${dbUrl}?application_name=${name}`,
        KUBECONFIG: path.join(dir, 'kubeconfig'),
        PROMETHEUS_URL: prom.url,
        SLACK_BOT_TOKEN: double.botToken,
        SLACK_SIGNING_SECRET: double.signingSecret,
        SLACK_API_URL: double.apiUrl,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (out = (out + d).slice(-200_000)));
    child.stderr!.on('data', (d) => (out = (out + d).slice(-200_000)));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const p: Proc = { name, url: `http://127.0.0.1:${port}`, child, log: () => out, exited };
    procs.push(p);
    await until(`${name} ready`, 60_000, async () => (await fetch(`${p.url}/readyz`).catch(() => undefined))?.ok ?? false, p.log);
    return p;
  }

  const leads = async (p: Proc) => /^shipbot_leader 1$/m.test(await (await fetch(`${p.url}/metrics`)).text());

  /** Asks, as U_DEV in #deploys through replica `via`, and presses Start: the run's id and thread. */
  async function deploy(via: Proc, text: string): Promise<{ id: string; thread: string }> {
    double.connect(`${via.url}/slack/events`);
    const before = new Set((await store.listRuns()).map((r) => r.id));
    const sent = await double.postUserMessage('U_DEV', 'deploys', `<@${double.botUserId}> ${text}`);
    const start = await until('the Start button', 30_000, async () =>
      double.messages('deploys', sent.ts).find((m) => JSON.stringify(m.blocks ?? []).includes('"req_start"')),
    );
    await double.clickButton('U_DEV', start.ts, 'req_start');
    const run = await until(`the run of "${text}"`, 30_000, async () => (await store.listRuns()).find((r) => !before.has(r.id)));
    return { id: run.id, thread: sent.ts };
  }

  const status = async (id: string) => (await store.getRun(id))!.phase.status;
  const inCanary = (id: string) =>
    until(`run ${id} in its canary`, 120_000, async () =>
      (await store.getRun(id))!.steps.some((s) => s.key.startsWith('stage:canary') && s.status === 'running'),
    );
  const ended = (id: string) =>
    until(`run ${id} to end`, 300_000, async () =>
      ['succeeded', 'rolled-back', 'failed', 'cancelled'].includes(await status(id)) ? status(id) : undefined,
    );
  const thread = (ts: string) =>
    double
      .messages('deploys', ts)
      .map((m) => m.text)
      .join('\n');
  const progressTs = (ts: string) =>
    double.messages('deploys', ts).find((m) => JSON.stringify(m.blocks ?? []).includes('"run_rollback"'))!.ts;
  /** Writes to the cluster with `name`'s User-Agent after the `after` event (the log keeps the newest 1000: one gone means all). */
  const writesBy = (name: string, after?: AuditEvent) => {
    const log = sandbox.auditLog();
    return log.slice(after ? log.indexOf(after) + 1 : 0).filter((e) => e.userAgent.includes(`replica ${name}-`));
  };
  const sqlWritesBy = (name: string, from: number) =>
    pg
      .log()
      .slice(from)
      .split('\n')
      .filter((l) => l.startsWith(`[${name}]`) && /\b(INSERT|UPDATE|DELETE)\b/i.test(l));

  let a: Proc;
  let b: Proc;

  it('kill -9 of the leader mid-canary: the standby leads within the Lease and a retry, and both runs go on; a Rollback pressed on it meanwhile acts once', async () => {
    a = await start('shipbot-a');
    await until('shipbot-a leads', 30_000, () => leads(a));
    b = await start('shipbot-b');
    expect(await leads(b)).toBe(false);

    const catalog = await deploy(a, 'deploy catalog v2.0.0 canary');
    const search = await deploy(b, 'deploy search v2.0.0 canary'); // recorded by the standby, run by the leader
    await inCanary(catalog.id);
    await inCanary(search.id);
    expect(writesBy('shipbot-a').length).toBeGreaterThan(0);
    expect(writesBy('shipbot-b')).toEqual([]);
    expect(sqlWritesBy('shipbot-b', 0).length).toBeGreaterThan(0); // it recorded search's run

    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    await a.exited;
    // The incident commander presses Rollback on search's progress message; Slack hands it to b.
    double.connect(`${b.url}/slack/events`);
    const press = await double.clickButton('U_IC', progressTs(search.thread), 'run_rollback');
    expect(press.status).toBe(200);
    await until('shipbot-b leads', LEASE_MS + 3 * RETRY_MS, () => leads(b), b.log);
    // client-go's rule: a whole Lease duration after b saw the last renewal, at its next try.
    expect(Date.now() - killedAt).toBeLessThanOrEqual(LEASE_MS + 2 * RETRY_MS + 1_000);

    expect(await ended(catalog.id), b.log()).toBe('succeeded');
    expect(await ended(search.id), b.log()).toBe('rolled-back');
    expect(thread(catalog.thread)).toMatch(/leader changed.*resuming at/);
    const trail = await store.auditTrail(search.id);
    expect(trail.filter((e) => e.action === 'rollback')).toHaveLength(1);
  }, 600_000);

  it('10 Rollback presses spread over both replicas act once', async () => {
    a = await start('shipbot-a2'); // the killed pod, rescheduled: a standby now
    expect(await leads(a)).toBe(false);
    const web = await deploy(b, 'deploy web v2.0.0 canary');
    await inCanary(web.id);
    const ts = progressTs(web.thread);
    const presses = Array.from({ length: 10 }, (_, i) => {
      double.connect(`${(i % 2 ? b : a).url}/slack/events`);
      return double.clickButton('U_IC', ts, 'run_rollback');
    });
    expect((await Promise.all(presses)).map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(await ended(web.id)).toBe('rolled-back');
    const trail = await store.auditTrail(web.id);
    expect(trail.filter((e) => e.action === 'rollback')).toHaveLength(1);
    expect(trail.filter((e) => e.action === 'rollback-repeated')).toHaveLength(9);
  }, 300_000);

  it('a leader paused (SIGSTOP) past its Lease and resumed (SIGCONT) writes nothing more to the cluster or the store, and exits', async () => {
    const checkout = await deploy(b, 'deploy checkout v2.0.0 canary');
    await inCanary(checkout.id);
    b.child.kill('SIGSTOP');
    await until('shipbot-a2 leads', LEASE_MS + 3 * RETRY_MS, () => leads(a), a.log);
    const [cluster, sql] = [sandbox.auditLog().at(-1), pg.log().length];
    b.child.kill('SIGCONT');
    const code = await b.exited;
    expect(code, b.log()).toBe(1);
    expect(b.log()).toMatch(/no longer leads/);
    expect(writesBy('shipbot-b', cluster)).toEqual([]);
    expect(sqlWritesBy('shipbot-b', sql)).toEqual([]);
    expect(await ended(checkout.id), a.log()).toBe('succeeded');
    expect(thread(checkout.thread)).toMatch(/leader changed.*resuming at/);
    expect(writesBy('shipbot-a2', cluster).length).toBeGreaterThan(0);
    expect(sqlWritesBy('shipbot-a2', sql).length).toBeGreaterThan(0);
  }, 600_000);
});

async function until<T>(what: string, ms: number, fn: () => Promise<T | undefined | false>, log: () => string = () => ''): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${log().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
