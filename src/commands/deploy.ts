// `shipbot deploy "<request>" [--yes] [--answers file.json] [--sandbox]`: one deployment from a
// terminal, with the live step list. r / a / i decide on a TTY. Exit 0 success, 2 rolled back, 1 error.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { ScaledClock } from '../clock.js';
import { contextsOf, findService, loadAll } from '../config.js';
import { kubeconfigClusters, kubeFromKubeconfig, singleCluster, type Clusters } from '../cluster/index.js';
import { parseCommand } from '../domain/parse.js';
import { buildPlan, PlanError, validatePlanAnswers, type PlanAnswers } from '../domain/plan.js';
import type { DeployPlan } from '../domain/types.js';
import { createLogger } from '../log.js';
import { CataloguePrometheus, prometheusAccess } from '../metrics/index.js';
import { SandboxMetricSource } from '../metrics/sandbox.js';
import type { MetricSource } from '../metrics/types.js';
import { changedLines, createRunner, exitCodeFor, renderRun } from '../runner/index.js';
import type { RunView } from '../runner/types.js';
import { openStore, type Store } from '../store/index.js';

const USAGE = 'usage: shipbot deploy "<request>" [--yes] [--answers file.json] [--sandbox]';

/** The sandbox clock runs fast so a demo deploy takes about a minute (SHIPBOT_SPEED overrides). */
const SANDBOX_SPEED = 60;

function planSummary(p: DeployPlan): string {
  return [
    `Plan: ${p.service} ${p.version} → ${p.environment}, ${p.strategy}${p.strategy === 'canary' ? ` (${p.canarySteps.join('% → ')}%)` : ''}, ${p.risk} risk`,
    `  SLO: errors ≤ ${p.slo.errorRatePct}%, p99 ≤ ${p.slo.p99Ms} ms, availability ≥ ${p.slo.availabilityPct}%`,
    `  stage window ${p.stageWindowSec}s, observation ${p.observationSec}s, regression threshold ${p.regressionThresholdPct}%, rollback on regression: ${p.rollbackOnRegression ? 'yes' : 'no'}`,
    ...(p.rationale ? [`  ${p.rationale}`] : []),
  ].join('\n');
}

export async function run(args: string[]): Promise<number> {
  const yes = args.includes('--yes') || args.includes('-y');
  const sandboxFlag = args.includes('--sandbox');
  const ai = args.indexOf('--answers');
  const answersFile = ai >= 0 ? args[ai + 1] : undefined;
  const text = args.filter((a, i) => !a.startsWith('-') && !(ai >= 0 && i === ai + 1)).join(' ').trim();
  if (!text) {
    console.error(USAGE);
    return 1;
  }
  const { env, config, dataDir } = loadAll();
  const parsed = parseCommand(/^\s*deploy\b/i.test(text) ? text : `deploy ${text}`, config);
  if (!parsed.ok) {
    console.error(`shipbot deploy: ${parsed.reason}`);
    return 1;
  }
  if (parsed.command.intent !== 'deploy') {
    console.error(`shipbot deploy: "${text}" is a ${parsed.command.intent} request, not a deploy.`);
    return 1;
  }
  const request = parsed.command;
  const service = request.service ? findService(config, request.service) : undefined;
  if (!service || request.missing.length) {
    const hint = request.suggestions.length ? ` Did you mean ${request.suggestions.join(', ')}?` : '';
    console.error(`shipbot deploy: the request needs a known service and a version, e.g. "deploy checkout v1.2.3".${hint}`);
    return 1;
  }
  let plan: DeployPlan;
  try {
    plan = buildPlan(request, service, config);
  } catch (err) {
    if (err instanceof PlanError) {
      console.error(`shipbot deploy: ${err.message}`);
      return 1;
    }
    throw err;
  }
  if (answersFile) {
    let answers: PlanAnswers;
    try {
      answers = JSON.parse(readFileSync(answersFile, 'utf8')) as PlanAnswers;
    } catch (err) {
      console.error(`shipbot deploy: cannot read the answers in ${answersFile}: ${(err as Error).message}`);
      return 1;
    }
    const checked = validatePlanAnswers(answers, plan, service, config);
    if ('errors' in checked) {
      console.error(`shipbot deploy: ${answersFile} has answers Shipbot cannot use:`);
      for (const [field, why] of Object.entries(checked.errors)) console.error(`  - ${field}: ${why}`);
      return 1;
    }
    plan = checked.plan;
  }
  console.log(planSummary(plan));
  const tty = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  if (!yes) {
    if (!tty) {
      console.error('shipbot deploy: no terminal to confirm the plan on; pass --yes to accept it.');
      return 1;
    }
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    const answer = await rl.question('Start this deployment? [y/N] ');
    rl.close();
    if (!/^y(es)?$/i.test(answer.trim())) {
      console.log('Not started.');
      return 1;
    }
  }

  const useSandbox = sandboxFlag || !env.KUBECONFIG;
  const clock = new ScaledClock(env.SHIPBOT_SPEED ?? (useSandbox ? SANDBOX_SPEED : 1));
  const logger = createLogger(env.LOG_LEVEL === 'info' ? 'warn' : env.LOG_LEVEL);
  // The store first: nothing is started that could keep the process alive when it cannot open.
  let store: Store;
  try {
    store = openStore(path.join(dataDir, 'shipbot.db'));
  } catch (err) {
    console.error(`shipbot deploy: ${(err as Error).message}`);
    return 1;
  }
  let clusters: Clusters;
  let metrics: MetricSource;
  let stopSandbox: (() => Promise<void>) | undefined;
  if (useSandbox) {
    const { sandboxTraffic, startSandbox } = await import('../sandbox/index.js');
    const sb = await startSandbox({ clock, demo: true, config, logger, ...sandboxTraffic(env) });
    stopSandbox = () => sb.close();
    const kube = kubeFromKubeconfig(sb.kubeconfigYaml());
    clusters = singleCluster(kube);
    metrics = new SandboxMetricSource(sb.url, { fetch: kube.fetch });
    console.log(`Sandbox cluster at ${sb.url} (clock ×${clock.speed})`);
  } else {
    try {
      clusters = kubeconfigClusters(env, contextsOf(config));
    } catch (err) {
      store.close();
      console.error(`shipbot deploy: ${(err as Error).message}`);
      return 1;
    }
    if (!env.PROMETHEUS_URL) {
      store.close();
      console.error('shipbot deploy: a real cluster needs PROMETHEUS_URL for SLO monitoring (or use --sandbox).');
      return 1;
    }
    metrics = new CataloguePrometheus(env.PROMETHEUS_URL, config, { clock, ...prometheusAccess(env) });
  }

  const runner = createRunner({ store, config, clock, clusters, metrics, logger, reportsDir: path.join(dataDir, 'reports') });
  const user = process.env.USER || process.env.USERNAME || 'terminal';
  try {
    const started = await runner.start({ request, plan, requester: { userId: user, name: user }, origin: { kind: 'terminal' } });
    if (!started.ok) {
      console.error(`shipbot deploy: ${started.message}`);
      return 1;
    }
    const final = await follow(runner, started.run, tty);
    if (!final) return 1;
    if (final.reportPath) console.log(`Report: ${final.reportPath}`);
    return exitCodeFor(final);
  } finally {
    await runner.close();
    store.close();
    await stopSandbox?.();
  }
}

/** Prints the step list as it changes and asks for decisions; resolves with the final view (or undefined on exit). */
function follow(runner: ReturnType<typeof createRunner>, first: RunView, tty: boolean): Promise<RunView | undefined> {
  return new Promise((resolve) => {
    let prev: RunView | undefined;
    let drawn = 0;
    let asking = false;
    const draw = (v: RunView) => {
      if (tty) {
        const lines = renderRun(v);
        if (drawn) process.stdout.write(`\x1b[${drawn}A\x1b[J`);
        process.stdout.write(lines.join('\n') + '\n');
        drawn = lines.length;
      } else {
        for (const l of changedLines(prev, v)) console.log(l);
      }
      prev = v;
    };
    const done = (v: RunView | undefined) => {
      off();
      if (asking && process.stdin.isTTY) process.stdin.setRawMode(false);
      process.stdin.pause();
      resolve(v);
    };
    const onUpdate = (v: RunView) => {
      draw(v);
      if (['succeeded', 'rolled-back', 'failed', 'cancelled', 'stopped'].includes(v.status)) return done(v);
      if (v.status === 'awaiting-decision' && !asking) {
        if (!tty) {
          console.error(`shipbot deploy: a decision is needed (${v.pendingDecision?.explanation ?? 'see above'}) and there is no terminal to ask on. Run again on a terminal to press r / a / i.`);
          return done(undefined);
        }
        ask(v);
      }
    };
    const ask = (v: RunView) => {
      asking = true;
      drawn = 0; // keep the prompt below the list
      process.stdout.write('Decide: [r]ollback  [a]ccept  [i]nvestigate > ');
      process.stdin.setRawMode(true);
      process.stdin.resume();
      const onKey = async (buf: Buffer) => {
        const k = buf.toString();
        const actor = v.requester;
        if (k === '\u0003') {
          process.stdin.off('data', onKey);
          console.log('\nLeaving; the run keeps waiting for a decision.');
          return done(undefined);
        }
        const cmd = k === 'r' ? 'rollback' : k === 'a' ? 'accept' : k === 'i' ? 'investigate' : undefined;
        if (!cmd) return;
        process.stdout.write(`${k}\n`);
        if (cmd === 'investigate') {
          const d = await runner.investigate(v.id, actor);
          for (const m of d.metrics) console.log(`  ${m.metric}: ${m.candidate} vs ${m.baseline} (${m.delta})`);
          for (const c of d.failingChecks) console.log(`  ✗ ${c}`);
          for (const p of d.pods.filter((p) => !p.ready || p.restarts > 0).slice(0, 5)) console.log(`  pod ${p.name}: ${p.phase}${p.reason ? ` (${p.reason})` : ''}, restarts ${p.restarts}`);
          process.stdout.write('Decide: [r]ollback  [a]ccept  [i]nvestigate > ');
          return;
        }
        process.stdin.off('data', onKey);
        process.stdin.setRawMode(false);
        asking = false;
        const r = await runner.command(v.id, cmd, actor);
        console.log(r.message);
      };
      process.stdin.on('data', onKey);
    };
    const off = runner.subscribe((ev) => {
      if (ev.type === 'run-updated' && ev.run.id === first.id) onUpdate(ev.run);
      if (ev.type === 'store-failed' && ev.runId === first.id) {
        // The database keeps the last saved state; say exactly that, and exit non-zero.
        console.error(`shipbot deploy: ${ev.message}`);
        done(undefined);
      }
    });
    onUpdate(runner.get(first.id) ?? first);
  });
}
