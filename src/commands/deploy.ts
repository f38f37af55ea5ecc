// `shipbot deploy "<request>" [--yes] [--answers file.json] [--sandbox] [--on-decision rollback|wait|accept]`:
// one deployment from a terminal, with the live step list. r / a / i decide on a TTY; without one,
// --on-decision says what a decision that needs a person becomes (default: roll back, so nothing
// is left serving unwatched). Exit 0 success, 2 rolled back, 3 left waiting for a decision, 1 error.
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
import { type RunView, pendingDecision, reportPathOf } from '../domain/run.js';
import { investigateBriefing } from '../reports/investigate.js';
import { openRunStore, type Store } from '../store/index.js';

const USAGE = 'usage: shipbot deploy "<request>" [--yes] [--answers file.json] [--sandbox] [--on-decision rollback|wait|accept]';

/** What an unattended run does with a decision that needs a person. */
export type OnDecision = 'rollback' | 'wait' | 'accept';
const ON_DECISION: readonly OnDecision[] = ['rollback', 'wait', 'accept'];
/** Exit code of a run left in the database, waiting for a person or a later `shipbot start`. */
export const EXIT_WAITING = 3;

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
  const di = args.findIndex((a) => a === '--on-decision' || a.startsWith('--on-decision='));
  const onDecision = di < 0 ? 'rollback' : args[di]!.includes('=') ? args[di]!.split('=')[1] : args[di + 1];
  const valueAt = new Set([ai, di].filter((i) => i >= 0 && !args[i]!.includes('=')).map((i) => i + 1));
  const text = args
    .filter((a, i) => !a.startsWith('-') && !valueAt.has(i))
    .join(' ')
    .trim();
  if (!text) {
    console.error(USAGE);
    return 1;
  }
  if (!ON_DECISION.includes(onDecision as OnDecision)) {
    console.error(`shipbot deploy: --on-decision takes ${ON_DECISION.join(', ')} (got ${onDecision ?? 'nothing'}).`);
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
    store = await openRunStore(env.SHIPBOT_DATABASE_URL, path.join(dataDir, 'shipbot.db'));
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
      await store.close();
      console.error(`shipbot deploy: ${(err as Error).message}`);
      return 1;
    }
    if (!env.PROMETHEUS_URL) {
      await store.close();
      console.error('shipbot deploy: a real cluster needs PROMETHEUS_URL for SLO monitoring (or use --sandbox).');
      return 1;
    }
    metrics = new CataloguePrometheus(env.PROMETHEUS_URL, config, { clock, ...prometheusAccess(env) });
  }

  const runner = createRunner({
    store,
    config,
    clock,
    clusters,
    metrics,
    logger,
    reportsDir: path.join(dataDir, 'reports'),
    git: { creds: env },
  });
  const user = process.env.USER || process.env.USERNAME || 'terminal';
  try {
    const started = await runner.start({ request, plan, requester: { userId: user, name: user }, origin: { kind: 'terminal' } });
    if (!started.ok) {
      console.error(`shipbot deploy: ${started.message}`);
      return 1;
    }
    const end = await follow(runner, started.run, tty, onDecision as OnDecision);
    if (end === 'waiting') {
      console.log(
        `Run ${started.run.id} is waiting for a decision: \`shipbot start\` picks it up, and a person decides there (in Slack, or on the local page).`,
      );
      // A deliberate stop: the resumed run does not count it against its budget.
      await runner.shutdown();
      return EXIT_WAITING;
    }
    if (!end) return 1;
    if (reportPathOf(end)) console.log(`Report: ${reportPathOf(end)}`);
    return exitCodeFor(end);
  } finally {
    await runner.close();
    await store.close();
    await stopSandbox?.();
  }
}

/**
 * Prints the step list as it changes and asks for decisions (on a TTY) or takes `onDecision`'s
 * (without one); resolves with the final view, 'waiting' when the run is left for later, or
 * undefined on an error.
 */
function follow(
  runner: ReturnType<typeof createRunner>,
  first: RunView,
  tty: boolean,
  onDecision: OnDecision,
): Promise<RunView | 'waiting' | undefined> {
  return new Promise((resolve) => {
    let prev: RunView | undefined;
    let drawn = 0;
    let asking = false;
    /** The decision this process already answered unattended (a run may need more than one). */
    let answered: string | undefined;
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
    const done = (v: RunView | 'waiting' | undefined) => {
      off();
      if (asking && process.stdin.isTTY) process.stdin.setRawMode(false);
      process.stdin.pause();
      resolve(v);
    };
    const onUpdate = (v: RunView) => {
      draw(v);
      if (['succeeded', 'rolled-back', 'failed', 'cancelled', 'stopped'].includes(v.phase.status)) return done(v);
      if (v.phase.status === 'awaiting-decision' && !asking) {
        if (tty) return ask(v);
        // Each update is a copy of the run: the same decision is the same text, not the same object.
        const decision = JSON.stringify(pendingDecision(v));
        if (answered === decision) return;
        answered = decision;
        void decideUnattended(v);
      }
    };
    const decideUnattended = async (v: RunView) => {
      const why = pendingDecision(v)?.explanation ?? 'see above';
      if (onDecision === 'wait') {
        console.log(`A decision is needed (${why}); no terminal to ask on, so the run is left waiting (--on-decision wait).`);
        return done('waiting');
      }
      console.log(
        `A decision is needed (${why}); no terminal to ask on: ${onDecision === 'rollback' ? 'rolling back' : 'accepting'} (--on-decision ${onDecision}).`,
      );
      const r = await runner.command(v.id, onDecision, v.requester);
      console.log(r.message);
      // Refused (say, the requester may not decide): the run keeps waiting for someone who may.
      if (!r.ok) done('waiting');
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
          return done('waiting');
        }
        const cmd = k === 'r' ? 'rollback' : k === 'a' ? 'accept' : k === 'i' ? 'investigate' : undefined;
        if (!cmd) return;
        process.stdout.write(`${k}\n`);
        if (cmd === 'investigate') {
          const d = await runner.investigate(v.id, actor);
          for (const line of investigateBriefing((await runner.get(v.id)) ?? v, d).slice(1)) console.log(`  ${line.replace(/\*/g, '')}`);
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
    void runner.get(first.id).then((v) => onUpdate(v ?? first));
  });
}
