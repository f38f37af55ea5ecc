// A whole deploy judged by a real Prometheus that scrapes every 15 s, as people run it (kube-
// prometheus' default is 30 s), with the shipped PromQL templates: the runner, the real drivers
// and the sandbox behind its TLS and token door, all in real time. `{{window}}` must stretch to
// 4 scrape intervals, or every sample is empty. Skips, saying why, without `prometheus`.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../src/clock.js';
import { findService, parseConfig, type ShipbotConfig } from '../../src/config.js';
import { kubeFromKubeconfig } from '../../src/cluster/index.js';
import { buildPlan } from '../../src/domain/plan.js';
import { parseCommand } from '../../src/domain/parse.js';
import { createLogger } from '../../src/log.js';
import { CataloguePrometheus } from '../../src/metrics/index.js';
import { createRunner, type Runner, type RunView } from '../../src/runner/index.js';
import { FINAL_STATUSES } from '../../src/runner/types.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { promBin, startPrometheus, until, type RealPrometheus } from './real-prometheus.js';

if (!promBin) console.warn('skipping the 15 s-scrape deploy suite: no `prometheus` on PATH (apt-get install prometheus; .ci/run does)');

const SCRAPE_SEC = 15;
const shipped = parseConfig(readFileSync('data/shipbot.yml', 'utf8'));
// Production only; the scrape interval as the operator configures it.
const config: ShipbotConfig = {
  ...shipped,
  prometheus: { scrapeIntervalSec: SCRAPE_SEC },
  services: shipped.services.map((s) => ({ ...s, environments: { production: s.environments.production } })),
};

describe.skipIf(!promBin)(`a whole canary judged by a real Prometheus scraping every ${SCRAPE_SEC} s`, () => {
  const clock = new ScaledClock(1);
  let sandbox: Sandbox;
  let prom: RealPrometheus | undefined;
  let store: Store;
  let runner: Runner;
  let dir: string;

  beforeAll(async () => {
    sandbox = await startSandbox({ demo: true, warm: true, clock, config, podStartMs: 1000 });
    prom = await startPrometheus(sandbox, SCRAPE_SEC);
    dir = mkdtempSync(path.join(tmpdir(), 'shipbot-prom-deploy-'));
    store = openStore(path.join(dir, 'shipbot.db'));
    const kube = kubeFromKubeconfig(sandbox.kubeconfigYaml());
    runner = createRunner({ store, config, clock, kube, metrics: new CataloguePrometheus(prom.url, config, { clock }), logger: createLogger('silent'), reportsDir: path.join(dir, 'reports'), pollMs: 500 });
    // Two scrapes of every pod, so rate() over 4 intervals has points from the start.
    const metrics = new CataloguePrometheus(prom.url, config, { clock });
    await until('web in Prometheus', 90_000, async () => {
      const s = await metrics.sample({ namespace: 'production', service: 'web', track: '' }, 30);
      return s.ok ? s : undefined;
    });
  }, 120_000);

  afterAll(async () => {
    await runner?.close();
    store?.close();
    await prom?.close();
    await sandbox?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('web (app=web, 3 replicas) goes to v1.3.0 through canary 50% with every sample answered', async () => {
    const parsed = parseCommand('deploy web v1.3.0 canary', config);
    if (!parsed.ok || parsed.command.intent !== 'deploy') throw new Error('not a deploy request');
    const request = parsed.command;
    const plan = {
      ...buildPlan(request, findService(config, 'web')!, config),
      canarySteps: [50, 100],
      monitoringIntervalSec: SCRAPE_SEC,
      stageWindowSec: 6 * SCRAPE_SEC,
      observationSec: 5 * SCRAPE_SEC,
    };
    const started = await runner.start({ request, plan, requester: { userId: 'U_DEV', name: 'dev' }, origin: { kind: 'terminal' } });
    if (!started.ok) throw new Error(started.message);
    // Ends at a final status, or at a question for a person (which would be a failure here).
    const done = await new Promise<RunView>((resolve) => {
      const check = (run: RunView | undefined) => run && (FINAL_STATUSES.has(run.status) || run.status === 'awaiting-decision') && (off(), resolve(run));
      const off = runner.subscribe((ev) => ev.type === 'run-updated' && ev.run.id === started.run.id && check(ev.run));
      check(runner.get(started.run.id));
    });
    const steps = done.steps.map((s) => `${s.status} ${s.title}: ${s.detail}`).join('\n');
    expect(done.status, steps).toBe('succeeded');
    // Judged on data, not on "no data": the canary stage compared real samples.
    const decisions = runner.record(started.run.id)!.data.decisions ?? [];
    const stage = decisions.find((d) => d.step === 'stage:canary-50');
    expect(stage?.decision.verdict, steps).toBe('CONTINUE');
    expect(stage?.candidate?.requests ?? 0, steps).toBeGreaterThan(0);
    expect(steps).not.toMatch(/no data|empty result/);
  }, 300_000);
});
