// The sandbox as a Kubernetes API server, driven by @kubernetes/client-node over HTTPS with its
// token: the door, discovery, every verb, selectors, paging, watch, patch types and Status errors.
import { PatchStrategy, setHeaderOptions, Watch, type V1ConfigMap } from '@kubernetes/client-node';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, deployment, startFixture, statusOf, waitFor, type Fixture } from './helpers.js';

let f: Fixture;
const NS = 't-api';

beforeAll(async () => {
  f = await startFixture({ watchHistory: 500 });
  await createNamespace(f.core, NS);
});
afterAll(async () => {
  await f?.sandbox.close();
});

const cm = (name: string, labels: Record<string, string> = {}, data: Record<string, string> = {}): V1ConfigMap => ({
  metadata: { name, labels },
  data,
});

describe('the door, as a real API server keeps it', () => {
  const withCa = (path: string, headers: Record<string, string> = {}) =>
    undiciFetch(f.sandbox.url + path, { headers, dispatcher: new Agent({ connect: { ca: f.sandbox.caPem } }) });

  it('serves HTTPS with a certificate its CA signed for 127.0.0.1; an untrusting client fails TLS', async () => {
    expect(f.sandbox.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    await expect(fetch(`${f.sandbox.url}/version`)).rejects.toThrow();
    expect((await withCa('/version', { authorization: `Bearer ${f.sandbox.token}` })).status).toBe(200);
  });

  for (const path of [
    '/version',
    '/api/v1/namespaces',
    '/api/v1/namespaces/default/services/x/proxy/health',
    '/sandbox/v1/targets',
    '/sandbox/v1/metrics?namespace=a&service=b',
  ]) {
    it(`answers 401 without the token, or with a wrong one: ${path}`, async () => {
      const none = await withCa(path);
      expect(none.status).toBe(401);
      expect(await none.json()).toMatchObject({ kind: 'Status', code: 401, reason: 'Unauthorized' });
      expect((await withCa(path, { authorization: `Bearer ${f.sandbox.token}x` })).status).toBe(401);
      expect((await withCa(path, { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` })).status).toBe(401);
    });
  }

  it('writes a kubeconfig that carries the CA and the token, so client-node just works', () => {
    const yaml = f.sandbox.kubeconfigYaml();
    expect(yaml).toContain(`certificate-authority-data: ${Buffer.from(f.sandbox.caPem).toString('base64')}`);
    expect(yaml).toContain(`token: ${f.sandbox.token}`);
    expect(yaml).not.toContain('insecure-skip-tls-verify');
  });
});

describe('discovery', () => {
  it('answers /version, /api, /apis and the resource lists real clients read', async () => {
    const get = async (p: string) => (await f.fetch(f.sandbox.url + p)).json();
    expect((await get('/version')).major).toBe('1');
    expect((await get('/api')).versions).toEqual(['v1']);
    const groups = await get('/apis');
    expect(groups.groups.map((g: { name: string }) => g.name)).toContain('apps');
    const core = await get('/api/v1');
    const names = core.resources.map((r: { name: string }) => r.name);
    for (const n of ['namespaces', 'nodes', 'pods', 'services', 'events', 'configmaps', 'pods/proxy', 'services/proxy'])
      expect(names).toContain(n);
    const apps = await get('/apis/apps/v1');
    expect(apps.resources.map((r: { name: string }) => r.name)).toEqual(
      expect.arrayContaining(['deployments', 'deployments/status', 'deployments/scale', 'replicasets']),
    );
    expect((await f.fetch(f.sandbox.url + '/openapi/v2')).status).toBe(404);
    // OpenAPI v3 says where each group-version's document is, and that PATCH validates fields on the server.
    const v3 = await get('/openapi/v3');
    expect(Object.keys(v3.paths)).toEqual(expect.arrayContaining(['api/v1', 'apis/apps/v1', 'apis/autoscaling/v2']));
    const appsDoc = await get(v3.paths['apis/apps/v1'].serverRelativeURL);
    expect(appsDoc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'].patch.parameters).toContainEqual(
      expect.objectContaining({ name: 'fieldValidation', in: 'query' }),
    );
  });

  it('lists the seeded nodes as Ready', async () => {
    const nodes = await f.core.listNode();
    expect(nodes.items.length).toBeGreaterThan(0);
    for (const n of nodes.items) expect(n.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  });
});

describe('verbs', () => {
  it('creates, gets, replaces and deletes, bumping resourceVersion on every write', async () => {
    const created = await f.core.createNamespacedConfigMap({ namespace: NS, body: cm('one', {}, { a: '1' }) });
    expect(created.metadata?.uid).toBeTruthy();
    expect(created.metadata?.namespace).toBe(NS);
    const got = await f.core.readNamespacedConfigMap({ name: 'one', namespace: NS });
    expect(got.data).toEqual({ a: '1' });
    got.data = { a: '2' };
    const replaced = await f.core.replaceNamespacedConfigMap({ name: 'one', namespace: NS, body: got });
    expect(Number(replaced.metadata!.resourceVersion)).toBeGreaterThan(Number(created.metadata!.resourceVersion));
    expect(replaced.metadata?.uid).toBe(created.metadata?.uid);
    await f.core.deleteNamespacedConfigMap({ name: 'one', namespace: NS });
    const gone = await statusOf(f.core.readNamespacedConfigMap({ name: 'one', namespace: NS }));
    expect(gone).toMatchObject({ kind: 'Status', code: 404, reason: 'NotFound' });
    expect(gone.message).toContain('configmaps "one" not found');
  });

  it('answers 409 Conflict to a replace with a stale resourceVersion, and 409 AlreadyExists to a duplicate create', async () => {
    const a = await f.core.createNamespacedConfigMap({ namespace: NS, body: cm('stale', {}, { v: '1' }) });
    await f.core.replaceNamespacedConfigMap({ name: 'stale', namespace: NS, body: { ...a, data: { v: '2' } } });
    const st = await statusOf(f.core.replaceNamespacedConfigMap({ name: 'stale', namespace: NS, body: { ...a, data: { v: '3' } } }));
    expect(st).toMatchObject({ code: 409, reason: 'Conflict' });
    expect(st.message).toContain('the object has been modified');
    const dup = await statusOf(f.core.createNamespacedConfigMap({ namespace: NS, body: cm('stale') }));
    expect(dup).toMatchObject({ code: 409, reason: 'AlreadyExists' });
  });

  it('answers 422 Invalid with the field at fault', async () => {
    const bad = deployment('bad', 'registry.example.com/x:v1');
    bad.spec!.template.metadata!.labels = { app: 'other' };
    const st = await statusOf(f.apps.createNamespacedDeployment({ namespace: NS, body: bad }));
    expect(st).toMatchObject({ code: 422, reason: 'Invalid' });
    expect(st.message).toContain('spec.template.metadata.labels');
    const noName = await statusOf(f.core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'Not_A_Name' } } }));
    expect(noName).toMatchObject({ code: 422, reason: 'Invalid' });
  });

  it('answers 404 for a namespace that does not exist', async () => {
    const st = await statusOf(f.core.createNamespacedConfigMap({ namespace: 'nope', body: cm('x') }));
    expect(st).toMatchObject({ code: 404, reason: 'NotFound' });
  });

  it('bumps generation on spec changes only', async () => {
    const d = await f.apps.createNamespacedDeployment({ namespace: NS, body: deployment('gen', 'registry.example.com/gen:v1', 1) });
    expect(d.metadata?.generation).toBe(1);
    const labelled = await f.apps.patchNamespacedDeployment(
      { name: 'gen', namespace: NS, body: { metadata: { labels: { team: 'a' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(labelled.metadata?.generation).toBe(1);
    expect(Number(labelled.metadata!.resourceVersion)).toBeGreaterThan(Number(d.metadata!.resourceVersion));
    const scaled = await f.apps.patchNamespacedDeployment(
      { name: 'gen', namespace: NS, body: { spec: { replicas: 2 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(scaled.metadata?.generation).toBe(2);
  });

  it('serves the scale and status subresources', async () => {
    await f.apps.createNamespacedDeployment({ namespace: NS, body: deployment('scaly', 'registry.example.com/s:v1', 1) });
    const scale = await f.apps.readNamespacedDeploymentScale({ name: 'scaly', namespace: NS });
    expect(scale.spec?.replicas).toBe(1);
    expect(scale.status?.selector).toBe('app=scaly,track=stable');
    scale.spec!.replicas = 3;
    scale.metadata!.resourceVersion = undefined; // the controller may write status meanwhile
    await f.apps.replaceNamespacedDeploymentScale({ name: 'scaly', namespace: NS, body: scale });
    expect((await f.apps.readNamespacedDeployment({ name: 'scaly', namespace: NS })).spec?.replicas).toBe(3);
    // Writing the main resource never changes status.
    const d = await f.apps.readNamespacedDeployment({ name: 'scaly', namespace: NS });
    const before = JSON.stringify(d.status ?? {});
    // No resourceVersion: the controller may write status meanwhile, and this is not about conflicts.
    await f.apps.replaceNamespacedDeployment({
      name: 'scaly',
      namespace: NS,
      body: { ...d, metadata: { ...d.metadata, resourceVersion: undefined }, status: { replicas: 99 } },
    });
    const after = await f.apps.readNamespacedDeploymentStatus({ name: 'scaly', namespace: NS });
    expect(after.status?.replicas).not.toBe(99);
    expect(before).not.toContain('"replicas":99');
  });
});

describe('list', () => {
  beforeAll(async () => {
    const mk = (name: string, labels: Record<string, string>) =>
      f.core.createNamespacedConfigMap({ namespace: NS, body: cm(name, labels) });
    await mk('sel-a', { tier: 'web', env: 'prod' });
    await mk('sel-b', { tier: 'db', env: 'prod' });
    await mk('sel-c', { tier: 'web', env: 'dev' });
    await mk('sel-d', { env: 'dev' });
  });
  const names = async (labelSelector?: string, fieldSelector?: string) =>
    (await f.core.listNamespacedConfigMap({ namespace: NS, labelSelector, fieldSelector })).items
      .map((i) => i.metadata!.name)
      .filter((n) => n!.startsWith('sel-'));

  it('filters by label selectors: =, !=, in, notin, exists, !exists', async () => {
    expect(await names('tier=web')).toEqual(['sel-a', 'sel-c']);
    expect(await names('tier!=web')).toEqual(['sel-b', 'sel-d']);
    expect(await names('env in (dev)')).toEqual(['sel-c', 'sel-d']);
    expect(await names('tier notin (web),env=prod')).toEqual(['sel-b']);
    expect(await names('tier')).toEqual(['sel-a', 'sel-b', 'sel-c']);
    expect(await names('!tier')).toEqual(['sel-d']);
  });

  it('filters by field selector metadata.name', async () => {
    expect(await names(undefined, 'metadata.name=sel-b')).toEqual(['sel-b']);
  });

  it('rejects a malformed selector with 400', async () => {
    const st = await statusOf(f.core.listNamespacedConfigMap({ namespace: NS, labelSelector: 'tier in web' }));
    expect(st).toMatchObject({ code: 400, reason: 'BadRequest' });
  });

  it('pages with limit and continue', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await f.core.listNamespacedConfigMap({ namespace: NS, labelSelector: 'env', limit: 3, _continue: token });
      seen.push(...page.items.map((i) => i.metadata!.name!));
      token = page.metadata?._continue;
      pages++;
      if (token) expect(page.items).toHaveLength(3);
    } while (token);
    expect(pages).toBe(2);
    expect(seen).toEqual(['sel-a', 'sel-b', 'sel-c', 'sel-d']);
  });
});

describe('patch', () => {
  const NAME = 'patchme';
  beforeAll(async () => {
    const d = deployment(NAME, 'registry.example.com/p:v1', 1);
    d.spec!.template.spec!.containers = [
      { name: 'app', image: 'registry.example.com/p:v1', env: [{ name: 'A', value: '1' }] },
      { name: 'sidecar', image: 'registry.example.com/side:v1' },
    ];
    await f.apps.createNamespacedDeployment({ namespace: NS, body: d });
  });
  const read = () => f.apps.readNamespacedDeployment({ name: NAME, namespace: NS });
  const patch = (body: unknown, type: string) =>
    f.apps.patchNamespacedDeployment({ name: NAME, namespace: NS, body }, setHeaderOptions('Content-Type', type));

  it('applies a JSON patch', async () => {
    const d = await patch(
      [
        { op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'registry.example.com/p:v2' },
        { op: 'add', path: '/metadata/annotations', value: { note: 'x' } },
      ],
      PatchStrategy.JsonPatch,
    );
    expect(d.spec?.template.spec?.containers[0]?.image).toBe('registry.example.com/p:v2');
    expect(d.metadata?.annotations?.note).toBe('x');
    const failed = await statusOf(patch([{ op: 'test', path: '/spec/replicas', value: 42 }], PatchStrategy.JsonPatch));
    expect(failed.code).toBe(422);
  });

  it('applies a JSON merge patch (lists replaced, null deletes)', async () => {
    const d = await patch(
      {
        metadata: { annotations: { note: null, other: 'y' } },
        spec: { template: { spec: { containers: [{ name: 'app', image: 'registry.example.com/p:v3' }] } } },
      },
      PatchStrategy.MergePatch,
    );
    expect(d.metadata?.annotations).toEqual(expect.objectContaining({ other: 'y' }));
    expect(d.metadata?.annotations?.note).toBeUndefined();
    expect(d.spec?.template.spec?.containers.map((c) => c.name)).toEqual(['app']);
    // Put the sidecar back for the strategic tests.
    await patch(
      {
        spec: {
          template: {
            spec: {
              containers: [
                { name: 'app', image: 'registry.example.com/p:v3', env: [{ name: 'A', value: '1' }] },
                { name: 'sidecar', image: 'registry.example.com/side:v1' },
              ],
            },
          },
        },
      },
      PatchStrategy.MergePatch,
    );
  });

  it('applies a strategic merge patch: containers merged by name', async () => {
    const d = await patch(
      { spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'registry.example.com/side:v2' }] } } } },
      PatchStrategy.StrategicMergePatch,
    );
    const cs = d.spec!.template.spec!.containers;
    expect(cs.map((c) => c.name)).toEqual(['app', 'sidecar']);
    expect(cs[0]!.image).toBe('registry.example.com/p:v3');
    expect(cs[0]!.env).toEqual([{ name: 'A', value: '1' }]);
    expect(cs[1]!.image).toBe('registry.example.com/side:v2');
  });

  it('honours $setElementOrder and $patch: delete', async () => {
    const reordered = await patch(
      {
        spec: {
          template: {
            spec: {
              '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'app' }],
              containers: [{ name: 'app', image: 'registry.example.com/p:v4' }],
            },
          },
        },
      },
      PatchStrategy.StrategicMergePatch,
    );
    expect(reordered.spec!.template.spec!.containers.map((c) => `${c.name}=${c.image}`)).toEqual([
      'sidecar=registry.example.com/side:v2',
      'app=registry.example.com/p:v4',
    ]);
    const deleted = await patch(
      { spec: { template: { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }] } } } },
      PatchStrategy.StrategicMergePatch,
    );
    expect(deleted.spec!.template.spec!.containers.map((c) => c.name)).toEqual(['app']);
  });

  it('answers 415 to an unknown patch type', async () => {
    const st = await statusOf(patch({ spec: { replicas: 2 } }, 'application/x-made-up'));
    expect(st).toMatchObject({ code: 415, reason: 'UnsupportedMediaType' });
    expect((await read()).spec?.replicas).toBe(1);
  });
});

describe('watch', () => {
  it('streams ADDED / MODIFIED / DELETED and resumes from a resourceVersion', async () => {
    const start = await f.core.listNamespacedConfigMap({ namespace: NS });
    const rv = start.metadata!.resourceVersion!;
    const seen: string[] = [];
    const w = new Watch(f.kc);
    const req = await w.watch(
      `/api/v1/namespaces/${NS}/configmaps`,
      { resourceVersion: rv, labelSelector: 'w=1' },
      (type, obj) => seen.push(`${type} ${obj.metadata.name}`),
      () => {},
    );
    await f.core.createNamespacedConfigMap({ namespace: NS, body: cm('w1', { w: '1' }) });
    await f.core.patchNamespacedConfigMap(
      { name: 'w1', namespace: NS, body: { data: { k: 'v' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await f.core.createNamespacedConfigMap({ namespace: NS, body: cm('ignored', { w: '2' }) });
    await f.core.deleteNamespacedConfigMap({ name: 'w1', namespace: NS });
    await waitFor('three watch events', () => seen.length >= 3);
    req.abort();
    expect(seen).toEqual(['ADDED w1', 'MODIFIED w1', 'DELETED w1']);

    // Resuming from the old resourceVersion replays the same changes.
    const replay: string[] = [];
    const req2 = await new Watch(f.kc).watch(
      `/api/v1/namespaces/${NS}/configmaps`,
      { resourceVersion: rv, labelSelector: 'w=1' },
      (type, obj) => replay.push(`${type} ${obj.metadata.name}`),
      () => {},
    );
    await waitFor('replayed events', () => replay.length >= 3);
    req2.abort();
    expect(replay).toEqual(seen);
  });

  it('sends a 410 Expired error event for a resourceVersion older than its history', async () => {
    // A sandbox that keeps only 50 changes: make more than that.
    const small = await startFixture({ watchHistory: 50 });
    await createNamespace(small.core, NS);
    for (let i = 0; i < 60; i++) await small.core.createNamespacedConfigMap({ namespace: NS, body: cm(`churn-${i}`) });
    expect(small.sandbox.store.oldestResumable).toBeGreaterThan(5);
    const events: Array<{ type: string; obj: { code?: number; reason?: string } }> = [];
    let doneErr: unknown = 'not done';
    await new Watch(small.kc).watch(
      `/api/v1/namespaces/${NS}/configmaps`,
      { resourceVersion: '2' },
      (type, obj) => events.push({ type, obj }),
      (err) => (doneErr = err),
    );
    await waitFor('the watch to end', () => doneErr !== 'not done');
    await small.sandbox.close();
    expect(events).toEqual([{ type: 'ERROR', obj: expect.objectContaining({ code: 410, reason: 'Expired' }) }]);
  });
});
