// How good the decisions are: seeded canaries of graded versions run through the real runner on
// the sandbox, at 1%, 5% and 25% exact shares (HTTPRoute weights) and 5 to 800 requests per
// second, with the shipped monitoring interval (30 s) and stage window (5 min). Each run ends
// rolled back, passed (promoted), or asking a person. Prints a confusion matrix per scenario and
// writes the false-rollback rate, the missed-regression rate and the detection time (in
// monitoring intervals, from the fault's onset to the rollback) to data/bench.json.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ScaledClock } from '../src/clock.js';
import { ShipbotConfig } from '../src/config.js';
import { kubeFromKubeconfig } from '../src/cluster/index.js';
import { buildPlan } from '../src/domain/plan.js';
import type { DeployRequest } from '../src/domain/types.js';
import { type RunStatus, outcomeOf, pendingDecision, rollbackOf } from '../src/domain/run.js';
import { createLogger } from '../src/log.js';
import { SandboxMetricSource } from '../src/metrics/sandbox.js';
import { createRunner } from '../src/runner/index.js';
import { seedDemo, type DemoService } from '../src/sandbox/demo.js';
import { startSandbox } from '../src/sandbox/index.js';
import { resourceByKind } from '../src/sandbox/resources.js';
import { RPS_ANNOTATION } from '../src/sandbox/traffic.js';
import { BASELINE } from '../src/sandbox/behaviour.js';
import { errorRateRule } from '../src/domain/judge.js';
import { fisherGreater } from '../src/domain/stats.js';
import { DEFAULT_ALPHA, rulesFromDefaults } from '../src/domain/judge-core.js';
import { openStore } from '../src/store/index.js';
import { untilDecidedOrFinal } from './runner.js';
import { ownTarget } from '../src/store/records.js';

type Figure = { name: string; value: number; unit: string; note?: string };
type Outcome = 'rolled back' | 'passed' | 'asked';

/**
 * A graded version and whether a good judge rolls it back (thresholds: +2 pts errors, p99 +20%,
 * 0.5% error SLO); `errorPct` for the error faults, to tell which traffic can show them at all.
 */
const SCENARIOS: Array<{ name: string; tag: string; regression: boolean; lateMin?: number; errorPct?: number }> = [
  { name: 'healthy', tag: '', regression: false },
  { name: 'noisy', tag: '-noisy', regression: false },
  { name: 'p99 +10% (under)', tag: '-slow1.1', regression: false },
  { name: 'errors 0.3% (under)', tag: '-errors0.3', regression: false },
  { name: 'errors 3%', tag: '-errors3', regression: true, errorPct: 3 },
  { name: 'errors 8%', tag: '-errors8', regression: true, errorPct: 8 },
  { name: 'errors 20%', tag: '-errors20', regression: true, errorPct: 20 },
  { name: 'p99 +50%', tag: '-slow1.5', regression: true },
  { name: 'p99 2x', tag: '-slow2', regression: true },
  { name: 'p99 3x', tag: '-slow3', regression: true },
  { name: 'tail only 3x', tag: '-tail3', regression: true },
  { name: 'late errors 8%', tag: '-late2-errors8', regression: true, lateMin: 2, errorPct: 8 },
  { name: 'late p99 2x', tag: '-late2-slow2', regression: true, lateMin: 2 },
];
const SHARES = [1, 5, 25];
const RPS = [5, 50, 200, 800];
/** Scenarios run twice (another seed: another service name, other random draws). */
const TWICE = new Set(['healthy', 'noisy', 'errors 8%', 'p99 2x']);
const SPEED = Number(process.env.BENCH_DECISIONS_SPEED ?? 60);
/** Only the scenarios whose names contain this (for a quick look), e.g. BENCH_DECISIONS_ONLY=healthy. */
const ONLY = process.env.BENCH_DECISIONS_ONLY;
const BATCH = Number(process.env.BENCH_DECISIONS_BATCH ?? 12);
const INTERVAL_SEC = 30;
const WINDOW_SEC = 300;
const RULES = rulesFromDefaults(ShipbotConfig.parse({ services: [benchService('d0')] }).defaults);

/**
 * Whether this traffic shows the regression at all, nearly always: the judge's own test is sure
 * even when the canary draws few bad requests (its expected count less two standard deviations,
 * a 97.7% lower bound). +3 points among 375 requests is not (11 errors expected, 4.5 at that
 * bound: p≈0.01 even with every request); asking a person is then right, and passing wrong.
 * Errors through the error rule; a tail-only slowdown (5% of requests slower, against the 1%
 * above the baseline's p99) through the Fisher test on those counts at the judge's level for a
 * small canary; other slowdowns move every percentile and need only the judge's minimum requests.
 */
function judgeable(t: Trial): boolean {
  const canaryRps = (t.rps * t.share) / 100;
  const faultSec = WINDOW_SEC - (t.scenario.lateMin ?? 0) * 60;
  const n = Math.round(canaryRps * faultSec);
  const baseN = Math.round((t.rps - canaryRps) * faultSec);
  if (n < RULES.minRequests) return false;
  const lowDraw = (expected: number) => Math.max(0, Math.floor(expected - 2 * Math.sqrt(expected)));
  if (t.scenario.tag.includes('tail')) {
    return fisherGreater(lowDraw(0.05 * n), n, Math.round(0.01 * baseN), baseN) < DEFAULT_ALPHA / 2;
  }
  if (t.scenario.errorPct === undefined) return true;
  // Two halves of the fault window, so the counts are not rounded away sample by sample.
  const halves = (requests: number, errors: number) =>
    [0, 1].map((i) => ({
      at: i * faultSec * 500,
      windowSec: faultSec / 2,
      requests: requests / 2,
      errorRate: errors / requests,
      p50Ms: 40,
      p95Ms: 90,
      p99Ms: 120,
      throughputRps: requests / faultSec,
    }));
  const base = halves(baseN, BASELINE.errorRate * baseN);
  const cand = halves(n, lowDraw((n * t.scenario.errorPct) / 100));
  return errorRateRule(base, cand, RULES, DEFAULT_ALPHA, 'canary', 'stable').verdict === 'ROLLBACK';
}

interface Trial {
  service: string;
  scenario: (typeof SCENARIOS)[number];
  share: number;
  rps: number;
}

function trials(): Trial[] {
  const out: Trial[] = [];
  for (const scenario of SCENARIOS.filter((x) => !ONLY || x.name.includes(ONLY)))
    for (const share of SHARES)
      for (const rps of RPS)
        for (let k = 0; k < (TWICE.has(scenario.name) ? 2 : 1); k++) out.push({ service: `d${out.length}`, scenario, share, rps });
  return out;
}

/** The catalogue entry of one bench service: a canary through its HTTPRoute, in namespace bench. */
function benchService(name: string) {
  return {
    name,
    image: `registry.example.com/bench/${name}`,
    strategies: ['canary'],
    environments: {
      production: {
        namespace: 'bench',
        deployment: name,
        service: name,
        container: 'app',
        trafficRouting: { gatewayAPI: { httpRoute: name } },
      },
    },
    slo: { errorRatePct: 1, p99Ms: 400, availabilityPct: 99.5 },
  };
}

async function batch(list: Trial[]): Promise<Array<{ t: Trial; outcome: Outcome; runEnd: RunStatus; intervals?: number; why: string }>> {
  const config = ShipbotConfig.parse({
    // Production deploys need roles (without any, only staging is allowed).
    roles: { deployers: ['U_BENCH'], incidentCommanders: ['U_BENCH'] },
    services: list.map((t) => benchService(t.service)),
  });
  const clock = new ScaledClock(SPEED);
  const sb = await startSandbox({ clock, podStartMs: 3000 });
  const services: DemoService[] = list.map((t) => ({
    name: t.service,
    image: `registry.example.com/bench/${t.service}`,
    environments: [
      {
        namespace: 'bench',
        deployment: t.service,
        service: t.service,
        container: 'app',
        replicas: 4,
        route: { kind: 'HTTPRoute', name: t.service },
      },
    ],
  }));
  seedDemo(sb.api, services);
  for (const t of list) {
    sb.api.patch(resourceByKind('Service'), 'bench', t.service, 'application/merge-patch+json', {
      metadata: { annotations: { [RPS_ANNOTATION]: String(t.rps) } },
    });
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shipbot-bench-decisions-'));
  const store = openStore(path.join(dir, 'shipbot.db'));
  const kube = kubeFromKubeconfig(sb.kubeconfigYaml());
  const runner = createRunner({
    store,
    config,
    clock,
    kube,
    metrics: new SandboxMetricSource(sb.url, { fetch: kube.fetch, timeoutMs: 20_000 }),
    logger: createLogger('silent'),
    reportsDir: path.join(dir, 'reports'),
  });
  try {
    await clock.sleep(200_000); // pods Ready and a few minutes of traffic to take a baseline from
    return await Promise.all(
      list.map(async (t) => {
        const request: DeployRequest = {
          intent: 'deploy',
          service: t.service,
          version: `v2.0.0${t.scenario.tag}`,
          environment: 'production',
          strategy: 'canary',
          focus: [],
          missing: [],
          suggestions: [],
          notes: [],
        };
        const svc = config.services.find((s) => s.name === t.service)!;
        const plan = {
          ...buildPlan(request, svc, config),
          canarySteps: [t.share, 100],
          stageWindowSec: WINDOW_SEC,
          monitoringIntervalSec: INTERVAL_SEC,
          // The gate after the canary needs post-deploy samples (5 × 30 s); without them it asks.
          observationSec: 150,
        };
        const r = await runner.start({ request, plan, requester: { userId: 'U_BENCH' }, origin: { kind: 'terminal' } });
        if (!r.ok) throw new Error(r.message);
        const end = (await untilDecidedOrFinal(runner, r.run.id))!;
        const rec = (await runner.record(r.run.id))!;
        const stage = rec.steps.find((s) => s.key === `stage:canary-${t.share}`);
        // The canary's decision is its stage's: the gate after it is not what this measures.
        const outcome: Outcome =
          stage?.status === 'done' ? 'passed' : stage?.status === 'failed' && rollbackOf(rec) ? 'rolled back' : 'asked';
        if (process.env.BENCH_DECISIONS_DEBUG)
          console.error(
            t.service,
            t.scenario.name,
            t.share,
            t.rps,
            end.phase.status,
            stage?.status,
            rollbackOf(rec)?.at,
            JSON.stringify(rec.steps.map((x) => [x.key, x.status, x.startedAt])),
          );
        // From the moment the canary's traffic began (monitoring starts then) to the rollback; a late fault from its onset.
        const watched = ownTarget(rec)
          .decisions?.filter((d) => d.step === stage?.key)
          .at(-1)?.watchedSec;
        const intervals =
          outcome === 'rolled back' && watched !== undefined
            ? Math.max(0, watched - (t.scenario.lateMin ?? 0) * 60) / INTERVAL_SEC
            : undefined;
        return {
          t,
          outcome,
          // The whole run: a regression the canary stage let through may still be rolled back by the gate after it.
          runEnd: end.phase.status,
          ...(intervals !== undefined ? { intervals } : {}),
          why: outcomeOf(end) ?? pendingDecision(end)?.explanation ?? '',
        };
      }),
    );
  } finally {
    await runner.close();
    await sb.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const quantile = (xs: number[], q: number) => {
  if (!xs.length) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))]!;
};

export async function benchDecisions(): Promise<Figure[]> {
  const all = trials();
  const results: Awaited<ReturnType<typeof batch>> = [];
  for (let i = 0; i < all.length; i += BATCH) {
    process.stderr.write(`  decisions: runs ${i + 1}–${Math.min(all.length, i + BATCH)} of ${all.length}…\n`);
    results.push(...(await batch(all.slice(i, i + BATCH))));
  }
  // A canary too quiet to judge: fewer requests over its stage window than the judge's minimum (50).
  const quiet = (t: Trial) => (t.rps * t.share * WINDOW_SEC) / 100 < RULES.minRequests;
  console.log('\nscenario                 rolled back  passed  asked   (too-quiet runs in brackets)');
  for (const s of SCENARIOS) {
    const rs = results.filter((r) => r.t.scenario === s);
    const n = (o: Outcome, q?: boolean) => rs.filter((r) => r.outcome === o && (q === undefined || quiet(r.t) === q)).length;
    console.log(
      `${s.name.padEnd(24)} ${String(n('rolled back')).padStart(6)} ${String(n('passed')).padStart(9)} ${String(n('asked')).padStart(6)}   (${n('rolled back', true)}/${n('passed', true)}/${n('asked', true)})`,
    );
  }
  const healthy = results.filter((r) => !r.t.scenario.regression);
  const regressions = results.filter((r) => r.t.scenario.regression);
  const judgeableRuns = regressions.filter((r) => judgeable(r.t));
  const audible = regressions.filter((r) => !quiet(r.t));
  const tooFaint = audible.filter((r) => !judgeable(r.t));
  const falseRollbacks = healthy.filter((r) => r.outcome === 'rolled back');
  const missed = audible.filter((r) => r.outcome === 'passed');
  // Runs that did not end rolled back: waiting for a person (the bench stops there), or anything else.
  const notRolledBack = audible.filter((r) => r.runEnd !== 'rolled-back');
  const askedAtEnd = notRolledBack.filter((r) => r.runEnd === 'awaiting-decision').length;
  const askedRegressions = judgeableRuns.filter((r) => r.outcome === 'asked');
  const quietPassed = results.filter((r) => quiet(r.t) && r.outcome === 'passed');
  const detect = (names: string[]) =>
    results.filter((r) => names.includes(r.t.scenario.name) && r.intervals !== undefined && judgeable(r.t)).map((r) => r.intervals!);
  const errors8 = detect(['errors 8%']);
  const slow2 = detect(['p99 2x']);
  const all2 = detect(SCENARIOS.filter((s) => s.regression).map((s) => s.name));
  const healthyAsked = healthy.filter((r) => r.outcome === 'asked' && !quiet(r.t));
  for (const r of [...falseRollbacks, ...missed, ...quietPassed, ...askedRegressions, ...healthyAsked].slice(0, 12)) {
    console.log(`  ${r.t.scenario.name} at ${r.t.share}% of ${r.t.rps} rps: ${r.outcome} — ${r.why.slice(0, 160)}`);
  }
  return [
    {
      name: 'runs',
      value: results.length,
      unit: 'runs',
      note: `${SCENARIOS.length} scenarios × shares ${SHARES.join('/')}% × ${RPS.join('/')} rps, clock ${SPEED}x`,
    },
    {
      name: 'false rollbacks (healthy, noisy, under threshold)',
      value: (100 * falseRollbacks.length) / healthy.length,
      unit: '%',
      note: `${falseRollbacks.length} of ${healthy.length}`,
    },
    {
      name: 'regressions rolled back (traffic that shows them, 97.7% of draws)',
      value: (100 * judgeableRuns.filter((r) => r.outcome === 'rolled back').length) / Math.max(1, judgeableRuns.length),
      unit: '%',
      note: `${askedRegressions.length} asked a person, ${judgeableRuns.filter((r) => r.outcome === 'passed').length} passed, of ${judgeableRuns.length}`,
    },
    {
      name: 'regressions too faint for their traffic that passed',
      value: tooFaint.filter((r) => r.outcome === 'passed').length,
      unit: 'runs',
      note: `of ${tooFaint.length} above the judge's minimum requests (${tooFaint.filter((r) => r.outcome === 'rolled back').length} rolled back anyway, ${tooFaint.filter((r) => r.outcome === 'asked').length} asked a person)`,
    },
    {
      name: 'regressions whose run ended rolled back (stage or gate), above the minimum requests',
      value: (100 * (audible.length - notRolledBack.length)) / Math.max(1, audible.length),
      unit: '%',
      note: `${notRolledBack.length} of ${audible.length} not: ${askedAtEnd} asked a person, ${notRolledBack.length - askedAtEnd} ended otherwise`,
    },
    {
      name: 'missed regressions (passed)',
      value: (100 * missed.length) / Math.max(1, audible.length),
      unit: '%',
      note: `${missed.length} of ${audible.length} above the judge's minimum requests`,
    },
    {
      name: 'too-quiet canaries that passed',
      value: quietPassed.length,
      unit: 'runs',
      note: `of ${results.filter((r) => quiet(r.t)).length} too quiet to judge`,
    },
    {
      name: 'detection, errors 8%: median',
      value: quantile(errors8, 0.5),
      unit: 'intervals',
      note: `p90 ${quantile(errors8, 0.9).toFixed(1)}, ${errors8.length} runs`,
    },
    {
      name: 'detection, p99 2x: median',
      value: quantile(slow2, 0.5),
      unit: 'intervals',
      note: `p90 ${quantile(slow2, 0.9).toFixed(1)}, ${slow2.length} runs`,
    },
    {
      name: 'detection, all regressions: median',
      value: quantile(all2, 0.5),
      unit: 'intervals',
      note: `p90 ${quantile(all2, 0.9).toFixed(1)}, ${all2.length} runs`,
    },
  ];
}
