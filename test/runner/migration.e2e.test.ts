// Database migrations against the sandbox: the release's migration Job runs once per environment
// before that environment's rollout (even across a crash), a failing or hanging Job stops the run
// before any traffic moves, with its log tail, and a migration that is not backward compatible
// turns an automatic rollback into a question for a person.
import { readFileSync } from 'node:fs';
import { BatchV1Api, CoreV1Api, type V1Job } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import type { MigrationConfig, ShipbotConfig } from '../../src/config.js';
import { findService } from '../../src/config.js';
import { buildPlan } from '../../src/domain/plan.js';
import { parseCommand } from '../../src/domain/parse.js';
import { kubeFromKubeconfig } from '../../src/cluster/index.js';
import { migrationJobName } from '../../src/cluster/migration-job.js';
import { SANDBOX_DB_PASSWORD } from '../../src/sandbox/app-logs.js';
import { FINAL_STATUSES, outcomeOf, pendingDecision, reportPathOf, rollbackOf, reportOf } from '../../src/domain/run.js';
import { IC, SHIPPED, servingImages, startWorld, started, until, withoutStaging, type World } from './world.js';

let w: World | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

const OLD = 'registry.example.com/shop/checkout:v1.2.2';

function withMigration(cfg: ShipbotConfig, over: Partial<MigrationConfig> = {}): ShipbotConfig {
  const out = structuredClone(cfg);
  const checkout = out.services.find((s) => s.name === 'checkout')!;
  checkout.migration = {
    job: {
      backoffLimit: 0,
      template: { spec: { restartPolicy: 'Never', containers: [{ name: 'migrate', command: ['/app/migrate', 'up'] }] } },
    },
    timeoutSec: 120,
    backwardCompatible: true,
    always: false,
    ...over,
  };
  return out;
}

function clients(world: World) {
  const kube = kubeFromKubeconfig(world.sandbox.kubeconfigYaml());
  return { batch: kube.kc.makeApiClient(BatchV1Api), core: kube.kc.makeApiClient(CoreV1Api), apps: kube.apps };
}

async function jobs(world: World, namespace: string): Promise<V1Job[]> {
  return (await clients(world).batch.listNamespacedJob({ namespace })).items;
}

async function jobPods(world: World, namespace: string, job: string) {
  return (await clients(world).core.listNamespacedPod({ namespace, labelSelector: `batch.kubernetes.io/job-name=${job}` })).items;
}

const settledOrAsking = (r: { phase: { status: string } }) =>
  FINAL_STATUSES.has(r.phase.status as never) || r.phase.status === 'awaiting-decision';

describe('migration Jobs', () => {
  it('runs the Job once in each environment, each before that environment gets the release', async () => {
    w = await startWorld({ config: withMigration(SHIPPED) });
    const run = started(await w.deploy('deploy checkout v1.2.3 canary', { canarySteps: [50, 100], dbMigration: true }));
    const keys = (await w.runner.record(run.id))!.steps.map((s) => s.key);
    expect(keys.slice(0, 7)).toEqual([
      'confirm-strategy',
      'validate',
      'staging-migration',
      'staging-deploy',
      'staging-gate',
      'migration',
      'prepare',
    ]);
    const done = await until(w.runner, run.id, settledOrAsking);
    expect(done.phase.status, outcomeOf(done)).toBe('succeeded');
    expect(done.steps.find((s) => s.key === 'migration')).toMatchObject({
      status: 'done',
      detail: expect.stringMatching(/^Job checkout-migrate-production-v1-2-3-[0-9a-f]{10} completed.*expand-only/),
    });
    const { apps } = clients(w);
    // Staging's migration runs the tag; production's the exact build staging's pods pulled.
    const pinned = (await w.runner.record(run.id))!.data.artifact!.image;
    for (const [ns, image] of [
      ['staging', 'registry.example.com/shop/checkout:v1.2.3'],
      ['production', pinned],
    ] as const) {
      const [job, ...more] = await jobs(w, ns);
      expect(more).toEqual([]);
      expect(job!.metadata?.name).toBe(migrationJobName('checkout', ns, 'v1.2.3', image));
      expect(job!.spec?.template.spec?.containers[0]?.image).toBe(image);
      expect(job!.status?.conditions?.map((c) => c.type)).toContain('Complete');
      expect(await jobPods(w, ns, job!.metadata!.name!)).toHaveLength(1);
    }
    // No traffic moved before the migration had succeeded: the canary was created after it completed.
    const prodJob = (await jobs(w, 'production'))[0]!;
    const canary = await apps.readNamespacedDeployment({ name: 'checkout-canary', namespace: 'production' });
    expect(Date.parse(String(canary.metadata?.creationTimestamp))).toBeGreaterThanOrEqual(
      Date.parse(String(prodJob.status?.completionTime)),
    );
    const report = readFileSync(reportPathOf((await w.runner.record(run.id))!)!, 'utf8');
    expect(report).toMatch(
      /## Database migration\n\n- staging: ✓ Job checkout-migrate-staging-v1-2-3-[0-9a-f]{10} completed.*backward compatible/,
    );
    expect(report).toMatch(/✓ Production migration — Job checkout-migrate-production-v1-2-3-[0-9a-f]{10} completed/);
  });

  it('a crash while the Job runs: the resumed run waits on the same Job, never a second one', async () => {
    w = await startWorld({ config: withMigration(withoutStaging()), speed: 10 });
    const run = started(await w.deploy('deploy checkout v1.2.3 rolling', { dbMigration: true }));
    await until(w.runner, run.id, (r) => r.steps.some((s) => s.key === 'migration' && s.status === 'running'));
    const world = w;
    const deadline = Date.now() + 10_000;
    while ((await jobs(world, 'production')).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const before = (await jobs(w, 'production'))[0]!;
    expect(before.status?.conditions ?? []).toEqual([]); // still running at the crash
    await w.runner.close();

    const runner = w.restart();
    expect(await runner.resumeInFlight()).toEqual([
      { runId: run.id, action: 'resume', note: expect.stringContaining('Production migration') },
    ]);
    const done = (await runner.settled(run.id))!;
    expect(done.phase.status, outcomeOf(done)).toBe('succeeded');
    const after = await jobs(w, 'production');
    expect(after.map((j) => j.metadata?.uid)).toEqual([before.metadata?.uid]);
    expect(await jobPods(w, 'production', before.metadata!.name!)).toHaveLength(1);
  });

  it("a Job of the same name that ran another image is never taken as this release's migration", async () => {
    w = await startWorld({ config: withMigration(withoutStaging()) });
    const { batch } = clients(w);
    const image = 'registry.example.com/shop/checkout:v1.2.3';
    const name = migrationJobName('checkout', 'production', 'v1.2.3', image);
    await batch.createNamespacedJob({
      namespace: 'production',
      body: {
        metadata: { name },
        spec: {
          backoffLimit: 0,
          template: {
            spec: { restartPolicy: 'Never', containers: [{ name: 'migrate', image: 'registry.example.com/shop/checkout:v0.9.0' }] },
          },
        },
      },
    });
    const run = started(await w.deploy('deploy checkout v1.2.3 rolling', { dbMigration: true }));
    const done = await until(w.runner, run.id, settledOrAsking);
    expect(done.phase.status).toBe('failed');
    expect(done.steps.find((s) => s.key === 'migration')!.detail).toMatch(
      /runs registry.example.com\/shop\/checkout:v0.9.0, not .*v1.2.3: it is not this release's migration/,
    );
    expect(await servingImages(w, 'checkout')).toEqual(expect.arrayContaining([OLD]));
    expect((await servingImages(w, 'checkout')).includes(image)).toBe(false);
  });

  it('fromJob clones an existing (suspended) Job in the namespace: its command and settings, the release image', async () => {
    w = await startWorld({ config: withMigration(withoutStaging(), { job: undefined, fromJob: 'checkout-migrate-template' }) });
    const { batch } = clients(w);
    await batch.createNamespacedJob({
      namespace: 'production',
      body: {
        metadata: { name: 'checkout-migrate-template' },
        spec: {
          suspend: true,
          backoffLimit: 0,
          template: {
            spec: {
              restartPolicy: 'Never',
              containers: [{ name: 'migrate', image: 'registry.example.com/shop/checkout:template', command: ['rake', 'db:migrate'] }],
            },
          },
        },
      },
    });
    const run = started(await w.deploy('deploy checkout v1.2.3 rolling', { dbMigration: true }));
    const done = await until(w.runner, run.id, settledOrAsking);
    expect(done.phase.status, outcomeOf(done)).toBe('succeeded');
    const name = migrationJobName('checkout', 'production', 'v1.2.3', 'registry.example.com/shop/checkout:v1.2.3');
    const made = (await batch.readNamespacedJob({ name, namespace: 'production' })).spec!;
    expect(made.suspend).toBe(false);
    expect(made.template.spec?.containers[0]).toMatchObject({
      command: ['rake', 'db:migrate'],
      image: 'registry.example.com/shop/checkout:v1.2.3',
    });
  });

  it('-migfail stops the run before anything changes: the reason and the log tail are in the step, production stays deployable', async () => {
    w = await startWorld({ config: withMigration(SHIPPED) });
    const run = started(await w.deploy('deploy checkout v1.2.3-migfail canary', { dbMigration: true }));
    const done = await until(w.runner, run.id, settledOrAsking);
    expect(done.phase.status, outcomeOf(done)).toBe('failed');
    expect(outcomeOf(done)).toMatch(
      /^staging migration: Job checkout-migrate-staging-v1-2-3-migfail-[0-9a-f]{10} failed \(BackoffLimitExceeded: .*\); no traffic moved$/,
    );
    const step = done.steps.find((s) => s.key === 'staging-migration')!;
    expect(step.status).toBe('failed');
    expect(step.detail).toMatch(
      /Last log lines \(pod checkout-migrate-staging-v1-2-3-migfail-[0-9a-f]{10}-\w+\):\n```\n[\s\S]*migration failed[\s\S]*\n```$/,
    );
    // The tool printed its database password; nothing Shipbot keeps, posts or writes has it.
    expect(step.detail).toContain('postgres://app:[redacted]@db.internal');
    const everything =
      JSON.stringify(await w.runner.record(run.id)) + readFileSync(reportPathOf((await w.runner.record(run.id))!)!, 'utf8');
    expect(everything).not.toContain(SANDBOX_DB_PASSWORD);
    expect(done.steps.filter((s) => s.key === 'staging-deploy' || s.key === 'prepare').map((s) => s.status)).toEqual([
      'skipped',
      'skipped',
    ]);
    expect(await servingImages(w, 'checkout', 'staging')).toEqual([OLD]);
    expect(await servingImages(w, 'checkout')).toEqual([OLD]);
    expect(await w.runner.getLock('checkout', 'production')).toBeUndefined();
    expect((await jobs(w, 'production')).length).toBe(0);
  });

  it('-mighang fails at the timeout (the cluster enforces it too) before any traffic moves', async () => {
    w = await startWorld({ config: withMigration(withoutStaging(), { timeoutSec: 40 }) });
    const run = started(await w.deploy('deploy checkout v1.2.3-mighang canary', { dbMigration: true }));
    const done = await until(w.runner, run.id, settledOrAsking);
    expect(done.phase.status, outcomeOf(done)).toBe('failed');
    expect(outcomeOf(done)).toMatch(
      /production migration: Job checkout-migrate-production-v1-2-3-mighang-[0-9a-f]{10} did not finish within 40s; no traffic moved/,
    );
    expect(done.steps.find((s) => s.key === 'migration')?.detail).toMatch(/waiting for lock/);
    const job = (await jobs(w, 'production'))[0]!;
    expect(job.spec?.activeDeadlineSeconds).toBe(40);
    expect(await servingImages(w, 'checkout')).toEqual([OLD]);
    await expect(clients(w).apps.readNamespacedDeployment({ name: 'checkout-canary', namespace: 'production' })).rejects.toThrow();
  });

  it('backwardCompatible: true: the automatic rollback goes ahead and says the schema stays migrated', async () => {
    w = await startWorld({ config: withMigration(withoutStaging()) });
    const run = started(await w.deploy('deploy checkout v1.2.3-errors canary', { canarySteps: [25, 100], dbMigration: true }));
    const done = await until(w.runner, run.id, settledOrAsking);
    expect(done.phase.status, outcomeOf(done)).toBe('rolled-back');
    expect(done.steps.find((s) => s.key === 'rollback')?.detail).toMatch(
      /traffic back on v1\.2\.2; the schema stays migrated in production \(expand-only/,
    );
    expect(readFileSync(reportPathOf((await w.runner.record(run.id))!)!, 'utf8')).toMatch(
      /- Schema: the schema stays migrated in production \(expand-only/,
    );
  });

  it('backwardCompatible: false: canary is refused, and a failure after the migration asks a person instead of rolling back', async () => {
    const config = withMigration(withoutStaging(), { backwardCompatible: false });
    w = await startWorld({ config });
    const refused = await w.deploy('deploy checkout v1.2.3 canary', { dbMigration: true });
    expect(refused).toMatchObject({
      ok: false,
      message: expect.stringMatching(/not backward compatible.*canary runs old and new code side by side.*use blue-green/),
    });
    // The recommendation is blue-green, with a longer observation.
    const parsed = parseCommand('deploy checkout v1.2.3 with a database migration', config);
    if (!parsed.ok || parsed.command.intent !== 'deploy') throw new Error('not parsed');
    const plan = buildPlan(parsed.command, findService(config, 'checkout')!, config);
    const plain = buildPlan({ ...parsed.command, dbMigration: false }, findService(config, 'checkout')!, config);
    expect(plan.strategy).toBe('blue-green');
    expect(plan.observationSec).toBe(plain.observationSec * 2);
    expect(plan.rationale).toMatch(/not backward compatible/);

    const run = started(await w.deploy('deploy checkout v1.2.3-smokefail blue-green', { dbMigration: true }));
    const asking = await until(w.runner, run.id, settledOrAsking);
    expect(asking.phase.status, outcomeOf(asking)).toBe('awaiting-decision');
    expect(pendingDecision(asking)?.explanation).toMatch(
      /critical-path.*Not rolled back by itself: the production migration \(Job checkout-migrate-production-v1-2-3-smokefail-[0-9a-f]{10}\) is not backward compatible/,
    );
    expect(rollbackOf((await w.runner.record(run.id))!)).toBeUndefined();
    // The person decides to roll back; the incident record says a down-migration is needed.
    expect(await w.runner.command(run.id, 'rollback', IC)).toMatchObject({ ok: true, acted: true });
    const done = (await w.runner.settled(run.id))!;
    expect(done.phase.status).toBe('rolled-back');
    const rec = (await w.runner.record(run.id))!;
    expect(readFileSync(reportOf(rec)!.incident!, 'utf8')).toMatch(/down-migration/);
    expect(readFileSync(reportPathOf(rec)!, 'utf8')).toMatch(/not backward compatible: an automatic rollback asks a person/);
  });
});
