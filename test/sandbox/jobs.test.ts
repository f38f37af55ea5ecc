// batch/v1 Jobs in the sandbox, through @kubernetes/client-node over HTTPS, as a 1.32 cluster
// serves them: defaults and the generated selector, one pod at a time, the outcome from the image
// tag (`-migfail` fails, `-mighang` never ends), backoffLimit, activeDeadlineSeconds, logs, and
// deletion that orphans the pods unless propagation is asked for.
import { BatchV1Api, type V1Job } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFixture, statusOf, waitFor, type Fixture } from './helpers.js';

let f: Fixture;
let batch: BatchV1Api;
const namespace = 'default';

function job(name: string, image: string, spec: Partial<V1Job['spec']> = {}): V1Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'migrate', image }] } }, ...spec },
  };
}

const condition = (j: V1Job, type: string) => j.status?.conditions?.find((c) => c.type === type && c.status === 'True');
const podsOf = async (name: string) =>
  (await f.core.listNamespacedPod({ namespace, labelSelector: `batch.kubernetes.io/job-name=${name}` })).items;

beforeAll(async () => {
  f = await startFixture();
  batch = f.kc.makeApiClient(BatchV1Api);
});
afterAll(() => f.sandbox.close());

describe('sandbox Jobs', () => {
  it('defaults a Job and generates its selector on its own uid; refuses restartPolicy Always and a changed template', async () => {
    const created = await batch.createNamespacedJob({ namespace, body: job('defaults', 'registry.example.com/shop/checkout:v1.0.0') });
    expect(created.spec).toMatchObject({ completions: 1, parallelism: 1, backoffLimit: 0, completionMode: 'NonIndexed', suspend: false });
    expect(created.spec?.selector?.matchLabels).toEqual({ 'batch.kubernetes.io/controller-uid': created.metadata?.uid });
    expect(created.spec?.template.metadata?.labels).toMatchObject({ 'job-name': 'defaults', 'batch.kubernetes.io/job-name': 'defaults' });
    const always = job('always', 'x:v1');
    always.spec!.template.spec!.restartPolicy = 'Always';
    expect(await statusOf(batch.createNamespacedJob({ namespace, body: always }))).toMatchObject({
      code: 422,
      message: expect.stringMatching(/restartPolicy/),
    });
    const changed = await batch.readNamespacedJob({ name: 'defaults', namespace });
    changed.spec!.template.spec!.containers[0]!.image = 'x:v2';
    expect(await statusOf(batch.replaceNamespacedJob({ name: 'defaults', namespace, body: changed }))).toMatchObject({
      code: 422,
      message: expect.stringMatching(/immutable/),
    });
  });

  it('a plain tag completes: one pod Succeeded, SuccessCriteriaMet then Complete, its log says what it applied', async () => {
    await batch.createNamespacedJob({ namespace, body: job('plain', 'registry.example.com/shop/checkout:v1.2.3') });
    const done = await waitFor('Complete', async () => {
      const j = await batch.readNamespacedJob({ name: 'plain', namespace });
      return condition(j, 'Complete') ? j : undefined;
    });
    expect(done.status?.conditions?.map((c) => c.type)).toEqual(['SuccessCriteriaMet', 'Complete']);
    expect(done.status).toMatchObject({ succeeded: 1 });
    expect(done.status?.completionTime).toBeTruthy();
    const pods = await podsOf('plain');
    expect(pods.map((p) => p.status?.phase)).toEqual(['Succeeded']);
    expect(pods[0]!.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    const log = await f.core.readNamespacedPodLog({ name: pods[0]!.metadata!.name!, namespace, container: 'migrate' });
    expect(log).toMatch(/migrations applied/);
  });

  it('-migfail fails each pod; with backoffLimit 1 a second pod is tried after the back-off, then Failed (BackoffLimitExceeded)', async () => {
    await batch.createNamespacedJob({
      namespace,
      body: job('fails', 'registry.example.com/shop/checkout:v1.2.3-migfail', { backoffLimit: 1 }),
    });
    const failed = await waitFor(
      'Failed',
      async () => {
        const j = await batch.readNamespacedJob({ name: 'fails', namespace });
        return condition(j, 'Failed') ? j : undefined;
      },
      30_000,
    );
    expect(condition(failed, 'Failed')).toMatchObject({ reason: 'BackoffLimitExceeded' });
    expect(condition(failed, 'FailureTarget')).toBeTruthy();
    expect(failed.status).toMatchObject({ failed: 2 });
    const pods = await podsOf('fails');
    expect(pods.map((p) => p.status?.phase)).toEqual(['Failed', 'Failed']);
    const log = await f.core.readNamespacedPodLog({ name: pods[0]!.metadata!.name!, namespace, container: 'migrate' });
    expect(log).toMatch(/migration failed/);
  });

  it('-mighang runs until activeDeadlineSeconds, then the Job fails (DeadlineExceeded) and its pod is stopped', async () => {
    await batch.createNamespacedJob({
      namespace,
      body: job('hangs', 'registry.example.com/shop/checkout:v1.2.3-mighang', { activeDeadlineSeconds: 60 }),
    });
    const running = await waitFor('running', async () => (await podsOf('hangs')).find((p) => p.status?.phase === 'Running'));
    expect(running).toBeTruthy();
    const failed = await waitFor(
      'DeadlineExceeded',
      async () => {
        const j = await batch.readNamespacedJob({ name: 'hangs', namespace });
        return condition(j, 'Failed') ? j : undefined;
      },
      30_000,
    );
    expect(condition(failed, 'Failed')).toMatchObject({ reason: 'DeadlineExceeded' });
    expect(await podsOf('hangs')).toEqual([]);
  });

  it('deleting a Job orphans its pods by default, as a real API server does; Background propagation removes them', async () => {
    await batch.createNamespacedJob({ namespace, body: job('orphan', 'x:v1-mighang') });
    await waitFor('pod', async () => (await podsOf('orphan')).length === 1);
    await batch.deleteNamespacedJob({ name: 'orphan', namespace });
    const left = await podsOf('orphan');
    expect(left).toHaveLength(1);
    expect(left[0]!.metadata?.ownerReferences ?? []).toEqual([]);
    await batch.createNamespacedJob({ namespace, body: job('cascade', 'x:v1-mighang') });
    await waitFor('pod', async () => (await podsOf('cascade')).length === 1);
    await batch.deleteNamespacedJob({ name: 'cascade', namespace, propagationPolicy: 'Background' });
    expect(await podsOf('cascade')).toEqual([]);
  });
});
