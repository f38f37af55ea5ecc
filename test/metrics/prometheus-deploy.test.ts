// Whole deploys judged by a real Prometheus that scrapes every 15 s, as people run it (kube-
// prometheus' default is 30 s), with the shipped PromQL templates: the runner, the real drivers
// and the sandbox behind its TLS and token door, all in real time; one canary split by replica
// ratio and one through an HTTPRoute, side by side. `{{window}}` must stretch to
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
import { FINAL_STATUSES, reportPathOf } from '../../src/domain/run.js';
import { fmtMs, fmtPct } from '../../src/domain/judge-core.js';
import { type DecisionRecord, ownTarget, targetIn } from '../../src/store/records.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { resourceByKind } from '../../src/sandbox/resources.js';
import { RPS_ANNOTATION } from '../../src/sandbox/traffic.js';
import { openStore, type Store } from '../../src/store/index.js';
import { promBin, startPrometheus, until, type RealPrometheus, withLatencyAllowance } from './real-prometheus.js';

if (!promBin) console.warn('skipping the 15 s-scrape deploy suite: no `prometheus` on PATH (apt-get install prometheus; .ci/run does)');

const SCRAPE_SEC = 15;
const shipped = parseConfig(readFileSync('data/shipbot.yml', 'utf8'));
// Production only, but for payments, which rehearses in staging first (its gate against
// production's live version, through the same templates); the scrape interval as the operator
// configures it.
// Latency is not this suite's subject (withLatencyAllowance says why).
const config: ShipbotConfig = {
  ...shipped,
  defaults: withLatencyAllowance(shipped.defaults),
  prometheus: { scrapeIntervalSec: SCRAPE_SEC },
  services: shipped.services.map((s) => (s.name === 'payments' ? s : { ...s, environments: { production: s.environments.production } })),
};

describe.skipIf(!promBin)(`a whole canary judged by a real Prometheus scraping every ${SCRAPE_SEC} s`, async () => {
  const clock = new ScaledClock(1);
  let sandbox: Sandbox;
  let prom: RealPrometheus | undefined;
  let store: Store;
  let runner: Runner;
  let dir: string;
  let scrapingSince = 0;

  beforeAll(async () => {
    sandbox = await startSandbox({ demo: true, warm: true, clock, config, podStartMs: 1000 });
    prom = await startPrometheus(sandbox, SCRAPE_SEC);
    scrapingSince = Date.now();
    dir = mkdtempSync(path.join(tmpdir(), 'shipbot-prom-deploy-'));
    store = openStore(path.join(dir, 'shipbot.db'));
    const kube = kubeFromKubeconfig(sandbox.kubeconfigYaml());
    runner = createRunner({
      store,
      config,
      clock,
      kube,
      metrics: new CataloguePrometheus(prom.url, config, { clock }),
      logger: createLogger('silent'),
      reportsDir: path.join(dir, 'reports'),
      pollMs: 500,
    });
    // Two scrapes of every pod, so rate() over 4 intervals has points from the start.
    const metrics = new CataloguePrometheus(prom.url, config, { clock });
    await until('web in Prometheus', 90_000, async () => {
      const s = await metrics.sample({ namespace: 'production', service: 'web', track: '' }, 30);
      return s.ok ? s : undefined;
    });
  }, 120_000);

  afterAll(async () => {
    await runner?.close();
    await store?.close();
    await prom?.close();
    await sandbox?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function deploy(text: string, canarySteps: number[], { observe = 5, stage = 6 } = {}): Promise<{ id: string; done: Promise<RunView> }> {
    const parsed = parseCommand(text, config);
    if (!parsed.ok || parsed.command.intent !== 'deploy') throw new Error(`not a deploy request: ${text}`);
    const request = parsed.command;
    const plan = {
      ...buildPlan(request, findService(config, request.service!)!, config),
      canarySteps,
      monitoringIntervalSec: SCRAPE_SEC,
      stageWindowSec: stage * SCRAPE_SEC,
      observationSec: observe * SCRAPE_SEC,
    };
    return runner.start({ request, plan, requester: { userId: 'U_DEV', name: 'dev' }, origin: { kind: 'terminal' } }).then((started) => {
      if (!started.ok) throw new Error(started.message);
      // Ends at a final status, or at a question for a person (which would be a failure here).
      const done = new Promise<RunView>((resolve) => {
        const check = (run: RunView | undefined) =>
          run && (FINAL_STATUSES.has(run.phase.status) || run.phase.status === 'awaiting-decision') && (off(), resolve(run));
        const off = runner.subscribe((ev) => ev.type === 'run-updated' && ev.run.id === started.run.id && check(ev.run));
        void runner.get(started.run.id).then(check);
      });
      return { id: started.run.id, done };
    });
  }

  /** The canary's share (percent) of the service's requests between two moments, from Prometheus. */
  async function canaryShareIn(service: string, fromMs: number, toMs: number): Promise<number> {
    const range = `${Math.floor((toMs - fromMs) / 1000)}s`;
    const query = async (track: string) => {
      const q = `sum(increase(http_requests_total{namespace="production",service="${service}"${track}}[${range}]))`;
      const res = (await (
        await fetch(`${prom!.url}/api/v1/query?${new URLSearchParams({ query: q, time: String(toMs / 1000) })}`)
      ).json()) as { data: { result: Array<{ value: [number, string] }> } };
      return Number(res.data.result[0]?.value[1] ?? NaN);
    };
    return (100 * (await query(',track="canary"'))) / (await query(''));
  }

  /**
   * Samples here overlap (a 4-scrape rate range read every scrape): the numbers a person reads in
   * the stage's line, the verdict's own finding and the report are one reading, not three.
   */
  async function sameNumbers(run: RunView, stage: DecisionRecord, line: string): Promise<void> {
    const c = stage.candidate!;
    const b = stage.baseline!;
    expect(line).toContain(`error ${fmtPct(c.errorRate)} vs ${fmtPct(b.errorRate)} baseline, p99 ${fmtMs(c.p99Ms)} vs ${fmtMs(b.p99Ms)}`);
    const finding = stage.decision.findings.find((f) => f.rule === 'error-rate')?.detail ?? '';
    expect(finding).toMatch(new RegExp(`^error rate ${literal(fmtPct(c.errorRate))} on .* vs ${literal(fmtPct(b.errorRate))} `));
    // The report's "after" column is the regression gate's reading; its finding names the same rate.
    const gate = ownTarget((await runner.record(run.id))!)
      .decisions!.filter((d) => d.step === 'regression-gate')
      .at(-1)!;
    const after = gate.candidate!;
    const gateFinding = gate.decision.findings.find((f) => f.rule === 'regression-error-rate')?.detail ?? '';
    expect(gateFinding).toContain(`error rate ${fmtPct(after.errorRate)} after the deploy vs ${fmtPct(gate.baseline!.errorRate)} before`);
    const report = readFileSync(reportPathOf(run)!, 'utf8');
    expect(report).toContain(`| error rate | ${fmtPct(gate.baseline!.errorRate)} | ${fmtPct(after.errorRate)} |`);
    expect(report).toContain(`| p99 latency | ${fmtMs(gate.baseline!.p99Ms)} | ${fmtMs(after.p99Ms)} |`);
  }
  const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

  const stepsOf = (run: RunView) => run.steps.map((s) => `${s.status} ${s.title}: ${s.detail}`).join('\n');

  it('web (replica ratio, canary 50%), catalog (HTTPRoute, canary 10%), search (blue-green) and payments (staging, then rolling) all go to v1.3.0 with every sample answered; checkout, whose users drop by 75% once it is rolled out, is rolled back', async () => {
    // A replica-ratio canary's promote replaces every pod, and Prometheus' sum(rate()) dips for
    // one range (4 scrapes, 60 s) while the new pods' series fill. 5 samples once read the dip as
    // a 35% drop; the samples whose range reaches back before the promote are now left out.
    const web = await deploy('deploy web v1.3.0 canary', [50, 100], { observe: 5 });
    const catalog = await deploy('deploy catalog v1.3.0 canary', [10, 100]);
    // Blue-green and rolling alongside, through the same templates: healthy releases pass their
    // monitored stage, the staging gate and the production observation gate on real samples.
    const search = await deploy('deploy search v1.3.0 blue-green', [100]);
    const payments = await deploy('deploy payments v1.3.0 rolling', [100]);
    // A real throughput drop: as checkout's observation begins, three in four of its users stop
    // coming (a broken client flow serves fewer requests, not failed ones). Throughput is judged
    // per sample: 8 after the drop against the baseline's 5 can be sure (Mann-Whitney, exact
    // p = 1/1287 when every one is lower); 5 against 5 cannot (1/252), and waiting for more is right.
    // Its baseline is read from Prometheus' history. A service scraped for a minute has rate()
    // windows still filling (12, 111, 170 rps…): the source refuses those (prometheus.test.ts),
    // and the baseline would wait for whole windows live; starting once 150 s of history exist
    // keeps this test's time. Its rolling stage is not monitored, to keep time.
    await new Promise((r) => setTimeout(r, Math.max(0, scrapingSince + 150_000 - Date.now())));
    const checkout = await deploy('deploy checkout v1.3.0 rolling', [100], { observe: 8, stage: 0 });
    await until('checkout observing', 240_000, async () =>
      (await runner.get(checkout.id))?.steps.some((s) => s.key === 'regression-gate' && s.status === 'running') ? true : undefined,
    );
    sandbox.api.patch(resourceByKind('Service'), 'production', 'checkout', 'application/merge-patch+json', {
      metadata: { annotations: { [RPS_ANNOTATION]: '50' } },
    });
    // While catalog's canary is judged, the route carries 10% of the weight.
    const weights = await until('catalog at canary 10%', 120_000, async () => {
      if (!(await runner.get(catalog.id))?.steps.some((s) => s.key === 'stage:canary-10' && s.status === 'running')) return undefined;
      const route = (await kubeFromKubeconfig(sandbox.kubeconfigYaml()).custom.getNamespacedCustomObject({
        group: 'gateway.networking.k8s.io',
        version: 'v1',
        plural: 'httproutes',
        namespace: 'production',
        name: 'catalog',
      })) as {
        spec: { rules: Array<{ backendRefs: Array<{ name: string; weight: number }> }> };
      };
      const refs = route.spec.rules[0]!.backendRefs;
      return refs.find((b) => b.name === 'catalog-canary')?.weight ? refs.map((b) => `${b.name}=${b.weight}`).join(' ') : undefined;
    });
    expect(weights).toBe('catalog=90 catalog-canary=10');

    for (const [run, stageKey, share] of [
      [await web.done, 'stage:canary-50', 50],
      [await catalog.done, 'stage:canary-10', 10],
    ] as const) {
      const steps = stepsOf(run);
      expect(run.phase.status, steps).toBe('succeeded');
      // Judged on data, not on "no data": the canary stage compared real samples.
      const decisions = ownTarget((await runner.record(run.id))!).decisions ?? [];
      const stage = decisions.find((d) => d.step === stageKey);
      expect(stage?.decision.verdict, steps).toBe('CONTINUE');
      expect(stage?.candidate?.requests ?? 0, steps).toBeGreaterThan(0);
      expect(steps).not.toMatch(/no data|empty result/);
      // The requests Prometheus counted in the stage, once both tracks' series were established
      // (30 s in): the canary's share is the one asked for, within 3 points.
      const step = run.steps.find((s) => s.key === stageKey)!;
      const from = step.startedAt! + 30_000;
      const served = await canaryShareIn(run.plan.service, from, step.endedAt!);
      expect(Math.abs(served - share), `${stageKey}: ${served.toFixed(1)}% of requests`).toBeLessThanOrEqual(3);
      await sameNumbers(run, stage!, step.detail ?? '');
    }
    for (const [run, stageKey] of [
      [await search.done, 'stage:cutover'],
      [await payments.done, 'stage:rolling-update'],
    ] as const) {
      const steps = stepsOf(run);
      expect(run.phase.status, steps).toBe('succeeded');
      const decisions = ownTarget((await runner.record(run.id))!).decisions ?? [];
      for (const step of [stageKey, 'regression-gate']) {
        const d = decisions.filter((x) => x.step === step).at(-1);
        expect(d?.decision.verdict, `${run.service} ${step}\n${steps}`).toBe('CONTINUE');
      }
      expect(decisions.find((x) => x.step === stageKey)?.candidate?.requests ?? 0, steps).toBeGreaterThan(0);
      expect(steps).not.toMatch(/no data|empty result/);
    }
    const staged = (await runner.record(payments.id))!;
    const stagingGate = targetIn(staged, 'staging')?.decisions?.filter((x) => x.step === 'staging-gate') ?? [];
    expect(stagingGate.length, stepsOf(staged)).toBeGreaterThan(0);
    for (const d of stagingGate) expect(d.decision.verdict, stepsOf(staged)).toBe('CONTINUE');
    expect(staged.steps.find((s) => s.key === 'staging-gate')?.status, stepsOf(staged)).toBe('done');

    const dropped = await checkout.done;
    const seen = (await runner.record(dropped.id))!;
    const why = `${stepsOf(dropped)}\nbaseline rps: ${ownTarget(seen)
      .baselineSamples?.map((x) => x.throughputRps.toFixed(0))
      .join(' ')}\nafter rps: ${ownTarget(seen)
      .afterSamples?.map((x) => x.throughputRps.toFixed(0))
      .join(' ')}\n${JSON.stringify(
      ownTarget(seen)
        .decisions?.filter((x) => x.step === 'regression-gate')
        .map((x) => x.decision.findings),
    )}`;
    expect(dropped.phase.status, why).toBe('rolled-back');
    const gate = ownTarget((await runner.record(dropped.id))!)
      .decisions?.filter((x) => x.step === 'regression-gate')
      .at(-1);
    expect(gate?.decision.findings.find((f) => f.rule === 'throughput')?.verdict, stepsOf(dropped)).toBe('ROLLBACK');
  }, 720_000);
});
