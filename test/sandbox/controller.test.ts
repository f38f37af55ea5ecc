// The simulated Deployment controller through client-node: ReplicaSets and revisions, rolling
// updates within maxSurge / maxUnavailable, pause / resume, conditions, rollback, cascade delete.
import { PatchStrategy, setHeaderOptions, Watch, type V1Deployment, type V1ReplicaSet } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, deployment, rolledOut, startFixture, waitFor, type Fixture } from './helpers.js';

let f: Fixture;
const NS = 't-ctrl';
const REVISION = 'deployment.kubernetes.io/revision';

beforeAll(async () => {
  f = await startFixture();
  await createNamespace(f.core, NS);
});
afterAll(async () => {
  await f?.sandbox.close();
});

const readD = (name: string) => f.apps.readNamespacedDeployment({ name, namespace: NS });
const ownedRs = async (d: V1Deployment): Promise<V1ReplicaSet[]> =>
  (await f.apps.listNamespacedReplicaSet({ namespace: NS })).items.filter((rs) =>
    rs.metadata?.ownerReferences?.some((o) => o.uid === d.metadata?.uid && o.controller),
  );
const strategic = (name: string, body: unknown) =>
  f.apps.patchNamespacedDeployment({ name, namespace: NS, body }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
const setImage = (name: string, image: string) =>
  strategic(name, { spec: { template: { spec: { containers: [{ name: 'app', image }] } } } });
const waitRolledOut = (name: string) =>
  waitFor(`${name} rolled out`, async () => ((d) => (rolledOut(d) ? d : undefined))(await readD(name)));
/** Lets the sandbox clock run for a few simulation ticks. */
const ticks = async (n: number) => {
  const start = f.sandbox.loopStats().ticks;
  await waitFor(`${n} ticks`, () => f.sandbox.loopStats().ticks >= start + n);
};

describe('rolling update', () => {
  it('creates a ReplicaSet <name>-<hash> owned by the Deployment, with revision 1 and Ready pods', async () => {
    await f.apps.createNamespacedDeployment({ namespace: NS, body: deployment('web', 'registry.example.com/web:v1', 8) });
    const d = await waitRolledOut('web');
    expect(d.metadata?.annotations?.[REVISION]).toBe('1');
    const [rs, ...others] = await ownedRs(d);
    expect(others).toEqual([]);
    const hash = rs!.metadata!.labels!['pod-template-hash']!;
    expect(hash).toMatch(/^[a-z0-9]{5,10}$/);
    expect(rs!.metadata!.name).toBe(`web-${hash}`);
    expect(rs!.metadata!.annotations![REVISION]).toBe('1');
    expect(rs!.spec!.selector.matchLabels!['pod-template-hash']).toBe(hash);
    const pods = await f.core.listNamespacedPod({ namespace: NS, labelSelector: `app=web,pod-template-hash=${hash}` });
    expect(pods.items).toHaveLength(8);
    for (const p of pods.items) {
      expect(p.metadata?.ownerReferences?.[0]).toMatchObject({
        kind: 'ReplicaSet',
        name: rs!.metadata!.name,
        uid: rs!.metadata!.uid,
        controller: true,
      });
      expect(p.status?.phase).toBe('Running');
      expect(p.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    }
    expect(d.status?.conditions?.map((c) => `${c.type}=${c.status}/${c.reason}`)).toEqual([
      'Available=True/MinimumReplicasAvailable',
      'Progressing=True/NewReplicaSetAvailable',
    ]);
  });

  it('rolls to a new image within maxSurge and maxUnavailable, and bumps the revision', async () => {
    // 8 replicas at 25%/25%: at most 10 pods, at least 6 available at every step.
    const seen: Array<{ replicas: number; available: number; updated: number }> = [];
    const req = await new Watch(f.kc).watch(
      `/apis/apps/v1/namespaces/${NS}/deployments`,
      { fieldSelector: 'metadata.name=web' },
      (_t, d: V1Deployment) => {
        seen.push({
          replicas: d.status?.replicas ?? 0,
          available: d.status?.availableReplicas ?? 0,
          updated: d.status?.updatedReplicas ?? 0,
        });
      },
      () => {},
    );
    const before = await readD('web');
    const patched = await setImage('web', 'registry.example.com/web:v2');
    expect(patched.metadata?.generation).toBe((before.metadata?.generation ?? 0) + 1);
    const d = await waitRolledOut('web');
    req.abort();
    expect(d.metadata?.annotations?.[REVISION]).toBe('2');
    expect(seen.length).toBeGreaterThan(3);
    expect(Math.max(...seen.map((s) => s.replicas))).toBeLessThanOrEqual(10);
    expect(Math.max(...seen.map((s) => s.replicas))).toBeGreaterThan(8); // it did surge
    expect(Math.min(...seen.map((s) => s.available))).toBeGreaterThanOrEqual(6);
    // Intermediate states were seen: the update went in steps, not all at once.
    expect(seen.some((s) => s.updated > 0 && s.updated < 8)).toBe(true);
    const rss = await ownedRs(d);
    expect(rss).toHaveLength(2);
    const old = rss.find((rs) => rs.metadata?.annotations?.[REVISION] === '1')!;
    expect(old.spec?.replicas).toBe(0);
    const events = await f.core.listNamespacedEvent({ namespace: NS, fieldSelector: 'involvedObject.name=web' });
    expect(events.items.map((e) => e.reason)).toContain('ScalingReplicaSet');
    expect(events.items.some((e) => /Scaled up replica set web-\w+ from \d+ to \d+/.test(e.message ?? ''))).toBe(true);
  });

  it('rolls back by re-using the old ReplicaSet with a bumped revision (as kubectl rollout undo does)', async () => {
    const d = await readD('web');
    const rss = await ownedRs(d);
    const old = rss.find((rs) => rs.metadata?.annotations?.[REVISION] === '1')!;
    // kubectl's DeploymentRollbacker: the old template without pod-template-hash, as a JSON patch.
    const template = structuredClone(old.spec!.template!);
    delete template.metadata!.labels!['pod-template-hash'];
    await f.apps.patchNamespacedDeployment(
      { name: 'web', namespace: NS, body: [{ op: 'replace', path: '/spec/template', value: template }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    const back = await waitRolledOut('web');
    expect(back.spec?.template.spec?.containers[0]?.image).toBe('registry.example.com/web:v1');
    expect(back.metadata?.annotations?.[REVISION]).toBe('3');
    const after = await ownedRs(back);
    expect(after).toHaveLength(2); // no third ReplicaSet
    const reused = after.find((rs) => rs.metadata?.name === old.metadata?.name)!;
    expect(reused.metadata?.uid).toBe(old.metadata?.uid);
    expect(reused.metadata?.annotations?.[REVISION]).toBe('3');
    expect(reused.spec?.replicas).toBe(8);
  });
});

describe('pause and resume', () => {
  it('holds a template change while paused and rolls it out on resume', async () => {
    await f.apps.createNamespacedDeployment({ namespace: NS, body: deployment('paused', 'registry.example.com/p:v1', 4) });
    await waitRolledOut('paused');
    await strategic('paused', { spec: { paused: true } });
    await setImage('paused', 'registry.example.com/p:v2');
    await ticks(5);
    const held = await readD('paused');
    expect(await ownedRs(held)).toHaveLength(1);
    expect(held.status?.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'Unknown', reason: 'DeploymentPaused' });
    expect(held.status?.updatedReplicas ?? 0).toBe(0);

    await strategic('paused', { spec: { paused: false } });
    const d = await waitRolledOut('paused');
    expect(d.metadata?.annotations?.[REVISION]).toBe('2');
    expect(d.status?.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable' });
  });
});

describe('conditions', () => {
  it('reports ProgressDeadlineExceeded when the new pods never become ready', async () => {
    await f.apps.createNamespacedDeployment({
      namespace: NS,
      body: deployment('stuck', 'registry.example.com/s:v1', 2, { progressDeadlineSeconds: 30 }),
    });
    await waitRolledOut('stuck');
    await setImage('stuck', 'registry.example.com/s:v2-missing');
    const d = await waitFor('the progress deadline', async () => {
      const x = await readD('stuck');
      return x.status?.conditions?.find((c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded') ? x : undefined;
    });
    const p = d.status!.conditions!.find((c) => c.type === 'Progressing')!;
    expect(p.status).toBe('False');
    expect(p.message).toMatch(/ReplicaSet "stuck-\w+" has timed out progressing\./);
    // The old pods still serve: availability holds.
    expect(d.status?.conditions?.find((c) => c.type === 'Available')?.status).toBe('True');
    expect(d.status?.availableReplicas).toBeGreaterThanOrEqual(1);
  });

  it('reports Available=False while too few pods are available', async () => {
    await f.apps.createNamespacedDeployment({ namespace: NS, body: deployment('never', 'registry.example.com/n:v1-crash', 2) });
    const d = await waitFor('observed', async () => ((x) => (x.status?.observedGeneration ? x : undefined))(await readD('never')));
    expect(d.status?.conditions?.find((c) => c.type === 'Available')).toMatchObject({
      status: 'False',
      reason: 'MinimumReplicasUnavailable',
    });
  });
});

describe('Recreate strategy', () => {
  it('stops every old pod before starting new ones', async () => {
    await f.apps.createNamespacedDeployment({
      namespace: NS,
      body: deployment('recreate', 'registry.example.com/r:v1', 3, { strategy: { type: 'Recreate' } }),
    });
    await waitRolledOut('recreate');
    // Every pod change arrives on the watch in order: replay them and check each moment.
    const live = new Map<string, string>();
    let overlap = false;
    let changes = 0;
    const req = await new Watch(f.kc).watch(
      `/api/v1/namespaces/${NS}/pods`,
      { labelSelector: 'app=recreate' },
      (type, pod) => {
        changes++;
        if (type === 'DELETED') live.delete(pod.metadata.name);
        else live.set(pod.metadata.name, pod.spec.containers[0].image);
        const images = new Set(live.values());
        if (images.has('registry.example.com/r:v1') && images.has('registry.example.com/r:v2')) overlap = true;
      },
      () => {},
    );
    await setImage('recreate', 'registry.example.com/r:v2');
    const d = await waitRolledOut('recreate');
    await waitFor('the watch to catch up', () => [...live.values()].filter((i) => i.endsWith(':v2')).length === 3 && live.size === 3);
    req.abort();
    expect(changes).toBeGreaterThan(6);
    expect(overlap).toBe(false);
    expect(d.status?.updatedReplicas).toBe(3);
    const killed = (await f.core.listNamespacedEvent({ namespace: NS })).items.filter(
      (e) => e.reason === 'Killing' && e.involvedObject.name?.startsWith('recreate-'),
    );
    expect(killed.length).toBeGreaterThanOrEqual(3);
  });
});

describe('scaling and deletion', () => {
  it('scales through spec.replicas and deletes ReplicaSets and pods with the Deployment', async () => {
    await f.apps.createNamespacedDeployment({ namespace: NS, body: deployment('gone', 'registry.example.com/g:v1', 2) });
    await waitRolledOut('gone');
    await strategic('gone', { spec: { replicas: 5 } });
    const d = await waitRolledOut('gone');
    expect(d.status?.readyReplicas).toBe(5);
    await f.apps.deleteNamespacedDeployment({ name: 'gone', namespace: NS });
    await waitFor('cascade', async () => (await f.core.listNamespacedPod({ namespace: NS, labelSelector: 'app=gone' })).items.length === 0);
    expect((await f.apps.listNamespacedReplicaSet({ namespace: NS, labelSelector: 'app=gone' })).items).toEqual([]);
  });
});
