// Argo Rollouts through the driver against the sandbox's stand-in controller over HTTPS: the
// rows follow the Rollout's own steps, Shipbot holds a weight while it judges and promotes only
// a pause a person accepted, and a rollback is the plugin's abort then undo to stable. Every
// write is read back from the API server's audit log, byte for byte as the plugin sends it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../src/clock.js';
import { ROLLOUTS, type RolloutObject } from '../../src/cluster/argo-rules.js';
import type { DriverDeps } from '../../src/cluster/common.js';
import { ClusterApi } from '../../src/cluster/api.js';
import { StageFailedError } from '../../src/cluster/errors.js';
import { createDriver, kubeFromKubeconfig } from '../../src/cluster/index.js';
import type { ArgoRolloutState } from '../../src/cluster/rollout-state.js';
import type { RolloutDriver, WorkloadRef } from '../../src/cluster/types.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import type { AuditEvent } from '../../src/sandbox/audit.js';
import { planFor, serving } from './sandbox.js';
import { rolloutConfig } from '../helpers/rollouts.js';

let sb: Sandbox;
let deps: DriverDeps;
let api: ClusterApi;
let driver: RolloutDriver;
const config = rolloutConfig();
const svc = config.services.find((s) => s.name === 'checkout')!;
const ref: WorkloadRef = { ...svc.environments.production, serviceName: 'checkout', imageRepo: svc.image };
const IMAGE = (v: string) => `registry.example.com/shop/checkout:${v}`;

/** A sandbox whose clock runs `speed` times real time. */
const boot = async (speed: number) => {
  const clock = new ScaledClock(speed);
  sb = await startSandbox({ clock, demo: true, warm: true, config });
  deps = { kube: kubeFromKubeconfig(sb.kubeconfigYaml()), clock, pollMs: 1000, rolloutTimeoutSec: 900 };
  api = new ClusterApi(deps.kube);
  driver = createDriver('canary', deps, 'Rollout');
};
beforeEach(() => boot(60));
/**
 * For the tests that need Shipbot's hold in the 60 s pause: at 60x that pause is 1 s of real
 * time, which a loaded machine can spend before the hold is read (a real cluster's pause leaves
 * many polls).
 */
const slower = async (speed: number) => {
  await sb.close();
  await boot(speed);
};
afterEach(() => sb.close());

const waitForPhase = async (phase: string) => {
  for (let i = 0; i < 500 && (await read()).status?.phase !== phase; i++) await new Promise((r) => setTimeout(r, 10));
  expect((await read()).status?.phase).toBe(phase);
};
const read = async () => (await api.getCustom(ROLLOUTS, 'production', 'checkout')) as unknown as RolloutObject;
/** The writes to the Rollout since `from`, as the audit log recorded them. */
const rolloutWrites = (from: number): AuditEvent[] =>
  sb
    .auditLog()
    .slice(from)
    .filter((e) => e.requestURI.includes('/rollouts/checkout'));
const MERGE = 'application/merge-patch+json';

describe('a canary Rollout [setWeight 20, pause 60s, setWeight 50, pause {}, setWeight 100]', () => {
  it('rows follow its steps; the judge holds each weight; Accept is the plugin promote; it ends Healthy on the new version', async () => {
    await slower(20);
    const plan = planFor('checkout', 'v1.3.0', 'canary');
    let st = (await driver.prepare(ref, plan)) as ArgoRolloutState;
    const stages = driver.stages(plan, st);
    expect(stages.map((s) => s.title)).toEqual([
      'canary 20%',
      'pause 60s',
      'canary 50%',
      'waiting for Accept',
      'canary 100%',
      'promote to 100%',
    ]);
    expect(stages.map((s) => s.waitsForAccept ?? false)).toEqual([false, false, false, true, false, false]);
    expect((await read()).spec.template?.spec?.containers?.[0]?.image).toBe(IMAGE('v1.2.2'));

    const mark = sb.auditLog().length;
    st = (await driver.applyStage(ref, st, stages[0]!)) as ArgoRolloutState;
    // 20 replicas at weight 20: 4 canary pods beside 16 stable, and the Rollout held in its pause.
    expect(st).toMatchObject({ heldAt: 1, servedPct: 20, newHash: expect.any(String) });
    let ro = await read();
    expect(ro.spec.paused).toBe(true);
    expect(ro.status).toMatchObject({ currentStepIndex: 1, phase: 'Paused', message: 'manually paused' });
    // Well past the pause's 60 s, the controller has not moved: the judge's window decides.
    await deps.clock.sleep(120_000);
    expect((await read()).status?.currentStepIndex).toBe(1);
    expect((await serving(sb, ref)).byVersion).toEqual({ 'v1.2.2': 80, 'v1.3.0': 20 });
    // A canary pod's metrics carry its ReplicaSet's hash, for queries that select {{podHash}}.
    const [pod] = await api.listPods('production', `rollouts-pod-template-hash=${st.newHash}`);
    const text = await (await deps.kube.fetch(`${sb.url}/api/v1/namespaces/production/pods/${pod!.metadata!.name}/proxy/metrics`)).text();
    expect(text).toContain(`pod_template_hash="${st.newHash}"`);

    // The weight's own row again (as after a restart) keeps the hold; the next row releases it.
    st = (await driver.applyStage(ref, st, stages[0]!)) as ArgoRolloutState;
    expect(st.heldAt).toBe(1);
    st = (await driver.applyStage(ref, st, stages[1]!)) as ArgoRolloutState;
    expect(st.heldAt).toBeUndefined();
    st = (await driver.applyStage(ref, st, stages[2]!)) as ArgoRolloutState;
    expect(st.heldAt).toBeUndefined(); // an open pause follows: it holds by itself
    expect(st.servedPct).toBe(50);
    st = (await driver.applyStage(ref, st, stages[3]!)) as ArgoRolloutState;
    ro = await read();
    expect(ro.status).toMatchObject({ currentStepIndex: 3, phase: 'Paused', message: 'CanaryPauseStep', controllerPause: true });
    // Still waiting a long while later: only a person moves it on.
    await deps.clock.sleep(120_000);
    expect((await read()).status?.currentStepIndex).toBe(3);

    st = (await driver.applyStage(ref, st, stages[4]!)) as ArgoRolloutState;
    st = (await driver.promote(ref, st)) as ArgoRolloutState;
    ro = await read();
    expect(ro.status).toMatchObject({ phase: 'Healthy', stableRS: st.newHash, currentPodHash: st.newHash, currentStepIndex: 5 });
    expect((await serving(sb, ref)).byVersion).toEqual({ 'v1.3.0': 100 });

    const writes = rolloutWrites(mark);
    // set image: GET, then one full update of the object as read, with only the image changed.
    expect(writes[0]).toMatchObject({ verb: 'update', contentType: expect.stringContaining('application/json') });
    const put = JSON.parse(writes[0]!.body);
    expect(put.spec.template.spec.containers[0].image).toBe(IMAGE('v1.3.0'));
    expect(put.metadata.resourceVersion).toMatch(/^\d+$/);
    expect(
      writes.slice(1).map((w) => [w.requestURI.replace(/\?.*$/, '').replace(/^.*\/rollouts\//, ''), w.contentType, JSON.parse(w.body)]),
    ).toEqual([
      ['checkout', MERGE, { spec: { paused: true } }], // the hold after weight 20 (the plugin's pause)
      ['checkout', MERGE, { spec: { paused: false } }], // released: the pause runs its own 60 s
      ['checkout/status', MERGE, { status: { pauseConditions: null } }], // Accept: the plugin's promote at a pause
    ]);
  });

  it('promotes only a Rollout waiting at a pause: nothing is sent while a weight step is unfinished', async () => {
    const plan = planFor('checkout', 'v1.3.0', 'canary');
    const st = (await driver.prepare(ref, plan)) as ArgoRolloutState;
    const stages = driver.stages(plan, st);
    const mark = sb.auditLog().length;
    // Straight to the "canary 50%" row: the controller is at weight 20 and its 60 s pause; Shipbot
    // sends the image and nothing else (no skip of the current step, as the plugin's promote would).
    await driver.applyStage(ref, st, stages[2]!);
    const writes = rolloutWrites(mark);
    expect(writes.map((w) => w.verb)).toEqual(['update']);
  });

  it('a rollback at 20% is the plugin abort, then undo to the stable template: the stable ReplicaSet serves 100%', async () => {
    await slower(10);
    const plan = planFor('checkout', 'v1.3.0-errors', 'canary');
    let st = (await driver.prepare(ref, plan)) as ArgoRolloutState;
    const stages = driver.stages(plan, st);
    st = (await driver.applyStage(ref, st, stages[0]!)) as ArgoRolloutState;
    expect(st.heldAt).toBe(1);
    const stableTemplate = (await api.listReplicaSets('production', `rollouts-pod-template-hash=${st.stableHash}`))[0]!.spec!.template;
    const mark = sb.auditLog().length;
    st = (await driver.rollback(ref, st)) as ArgoRolloutState;
    const again = sb.auditLog().length;
    await driver.rollback(ref, st); // pressed twice: acts once
    expect(rolloutWrites(again)).toEqual([]);
    const verified = await driver.verifyRollback(ref, st);
    expect(verified).toMatchObject({ ok: true, oldTrafficPct: 100 });
    expect((await serving(sb, ref)).byVersion).toEqual({ 'v1.2.2': 100 });
    const ro = await read();
    expect(ro.status).toMatchObject({ phase: 'Healthy', stableRS: st.stableHash, currentPodHash: st.stableHash, abort: false });

    const writes = rolloutWrites(mark).map((w) => [
      w.requestURI.replace(/\?.*$/, '').replace(/^.*\/rollouts\//, ''),
      w.contentType,
      JSON.parse(w.body),
    ]);
    const undoTemplate = structuredClone(stableTemplate) as { metadata: { labels: Record<string, string> } };
    delete undoTemplate.metadata.labels['rollouts-pod-template-hash'];
    expect(writes).toEqual([
      ['checkout/status', MERGE, { status: { abort: true } }],
      ['checkout', 'application/json-patch+json', [{ op: 'replace', path: '/spec/template', value: undoTemplate }]],
      ['checkout', MERGE, { spec: { paused: false } }], // Shipbot's hold comes off
    ]);
  });

  it('a rollback after the new version became stable is undo then the plugin promote --full: the old version back without walking the steps', async () => {
    const plan = planFor('checkout', 'v1.3.0', 'canary');
    let st = (await driver.prepare(ref, plan)) as ArgoRolloutState;
    for (const s of driver.stages(plan, st)) st = (await driver.applyStage(ref, st, s)) as ArgoRolloutState;
    st = (await driver.promote(ref, st)) as ArgoRolloutState;
    expect((await read()).status?.stableRS).toBe(st.newHash);
    const mark = sb.auditLog().length;
    st = (await driver.rollback(ref, st)) as ArgoRolloutState;
    expect(await driver.verifyRollback(ref, st)).toMatchObject({ ok: true, oldTrafficPct: 100 });
    expect((await read()).status).toMatchObject({ phase: 'Healthy', stableRS: st.stableHash, currentPodHash: st.stableHash });
    expect(rolloutWrites(mark).map((w) => [w.contentType, JSON.parse(w.body)[0]?.op ?? JSON.parse(w.body)])).toEqual([
      ['application/json-patch+json', 'replace'],
      [MERGE, { status: { promoteFull: true } }],
    ]);
  });

  it('the same version again after someone aborted its update is the plugin retry; another version starts afresh', async () => {
    await slower(10);
    const plan = planFor('checkout', 'v1.3.0', 'canary');
    // Someone ran `kubectl argo rollouts set image` for v1.3.0, then aborted it.
    const ro = await read();
    ro.spec.template!.spec!.containers![0]!.image = IMAGE('v1.3.0');
    await api.replaceCustom(ROLLOUTS, 'production', 'checkout', ro as never);
    for (let i = 0; i < 500 && (await read()).status?.currentStepIndex !== 1; i++) await new Promise((r) => setTimeout(r, 10));
    await api.mergeCustomStatus(ROLLOUTS, 'production', 'checkout', { status: { abort: true } });
    await waitForPhase('Degraded');
    const checks = await driver.preflight(ref, 'v1.3.0', plan);
    expect(checks.find((c) => c.name === 'aborted update')).toMatchObject({
      ok: false,
      severity: 'warning',
      detail: expect.stringContaining('retries it'),
    });
    const mark = sb.auditLog().length;
    const st = await driver.prepare(ref, plan);
    await driver.applyStage(ref, st, driver.stages(plan, st)[0]!);
    expect(
      rolloutWrites(mark).map((w) => [w.requestURI.replace(/\?.*$/, '').replace(/^.*\/rollouts\//, ''), w.contentType, w.body]),
    ).toEqual([
      ['checkout/status', MERGE, '{"status":{"abort":false}}'],
      ['checkout', MERGE, '{"spec":{"paused":true}}'],
    ]);
    expect((await read()).status).toMatchObject({ abort: false, currentStepIndex: 1 });

    // Aborted again (the run's hold released first, as its next row would); this time another version: a new template, no retry.
    await api.mergeCustom(ROLLOUTS, 'production', 'checkout', { spec: { paused: false } });
    await api.mergeCustomStatus(ROLLOUTS, 'production', 'checkout', { status: { abort: true } });
    await waitForPhase('Degraded');
    const other = planFor('checkout', 'v1.3.1', 'canary');
    const mark2 = sb.auditLog().length;
    const st2 = await driver.prepare(ref, other);
    await driver.applyStage(ref, st2, driver.stages(other, st2)[0]!);
    expect(rolloutWrites(mark2).map((w) => `${w.verb} ${w.body.length < 40 ? w.body : ''}`)).toEqual([
      'update ',
      'patch {"spec":{"paused":true}}',
    ]);
    expect((await read()).status).toMatchObject({ abort: false, currentStepIndex: 1 });
  });

  it.each(['VirtualService', 'HTTPRoute'] as const)(
    'routed through a %s, the weights are set on the route; a rollback takes them back at once, before the canary scales down',
    async (kind) => {
      const kube = kubeFromKubeconfig(sb.kubeconfigYaml());
      await kube.core.createNamespacedService({
        namespace: 'production',
        body: { metadata: { name: 'checkout-canary' }, spec: { selector: { app: 'checkout' }, ports: [{ port: 80, targetPort: 8080 }] } },
      });
      const res =
        kind === 'VirtualService'
          ? { group: 'networking.istio.io', version: 'v1', plural: 'virtualservices' }
          : { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes' };
      await kube.custom.createNamespacedCustomObject({
        ...res,
        namespace: 'production',
        body:
          kind === 'VirtualService'
            ? {
                apiVersion: 'networking.istio.io/v1',
                kind,
                metadata: { name: 'checkout' },
                spec: {
                  hosts: ['checkout'],
                  http: [
                    {
                      name: 'primary',
                      route: [
                        { destination: { host: 'checkout' }, weight: 100 },
                        { destination: { host: 'checkout-canary' }, weight: 0 },
                      ],
                    },
                  ],
                },
              }
            : {
                apiVersion: 'gateway.networking.k8s.io/v1',
                kind,
                metadata: { name: 'checkout' },
                spec: {
                  parentRefs: [{ name: 'shop-gateway', namespace: 'default' }],
                  rules: [
                    {
                      backendRefs: [
                        { name: 'checkout', port: 80, weight: 100 },
                        { name: 'checkout-canary', port: 80, weight: 0 },
                      ],
                    },
                  ],
                },
              },
      });
      const ro = await read();
      ro.spec.strategy = {
        canary: {
          canaryService: 'checkout-canary',
          stableService: 'checkout',
          trafficRouting:
            kind === 'VirtualService'
              ? { istio: { virtualService: { name: 'checkout', routes: ['primary'] } } }
              : { plugins: { 'argoproj-labs/gatewayAPI': { httpRoute: 'checkout', namespace: 'production' } } },
          steps: ro.spec.strategy!.canary!.steps!,
        },
      } as never;
      await api.replaceCustom(ROLLOUTS, 'production', 'checkout', ro as never);
      const weights = async () => {
        const route = (await api.getCustom(res, 'production', 'checkout')) as unknown as {
          spec: {
            http?: Array<{ route: Array<{ destination: { host: string }; weight: number }> }>;
            rules?: Array<{ backendRefs: Array<{ name: string; weight: number }> }>;
          };
        };
        return kind === 'VirtualService'
          ? route.spec.http![0]!.route.map((d) => `${d.destination.host}=${d.weight}`)
          : route.spec.rules![0]!.backendRefs.map((b) => `${b.name}=${b.weight}`);
      };

      const plan = planFor('checkout', 'v1.3.0', 'canary');
      let st = (await driver.prepare(ref, plan)) as ArgoRolloutState;
      expect(st.smokeService).toBe('checkout-canary');
      st = (await driver.applyStage(ref, st, driver.stages(plan, st)[0]!)) as ArgoRolloutState;
      expect(st.servedPct).toBe(20);
      expect(await weights()).toEqual(['checkout=80', 'checkout-canary=20']);
      // Routed: the canary sized for 20% of 20 (4 pods) beside a whole stable.
      const sets = await api.listReplicaSets('production', 'app=checkout');
      const size = (hash: string | undefined) =>
        sets.find((x) => x.metadata?.labels?.['rollouts-pod-template-hash'] === hash)?.spec?.replicas;
      expect([size(st.newHash), size(st.stableHash)]).toEqual([4, 20]);
      expect((await serving(sb, ref)).byVersion).toEqual({ 'v1.2.2': 80, 'v1.3.0': 20 });

      st = (await driver.rollback(ref, st)) as ArgoRolloutState;
      expect(await weights()).toEqual(['checkout=100', 'checkout-canary=0']);
      // The canary's pods are still there (scaled down after the delay), but no user reaches them.
      const after = await api.listReplicaSets('production', `rollouts-pod-template-hash=${st.newHash}`);
      expect(after[0]?.spec?.replicas).toBe(4);
      expect(await driver.verifyRollback(ref, st)).toMatchObject({ ok: true, oldTrafficPct: 100 });
      expect((await serving(sb, ref)).byVersion).toEqual({ 'v1.2.2': 100 });
    },
  );

  it('a crash-looping new version fails its stage with the signal, not a timeout', async () => {
    const plan = planFor('checkout', 'v1.3.0-crashloop', 'canary');
    const st = await driver.prepare(ref, plan);
    const err = await driver.applyStage(ref, st, driver.stages(plan, st)[0]!).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StageFailedError);
    expect((err as StageFailedError).reason).toBe('signal');
  });

  it("preflight refuses a plan whose strategy is not the Rollout's own", async () => {
    const checks = await createDriver('blue-green', deps, 'Rollout').preflight(ref, 'v1.3.0', planFor('checkout', 'v1.3.0', 'blue-green'));
    expect(checks.find((c) => c.name === 'strategy')).toMatchObject({
      ok: false,
      severity: 'error',
      detail: expect.stringContaining('runs canary'),
    });
    const ok = await driver.preflight(ref, 'v1.3.0', planFor('checkout', 'v1.3.0', 'canary'));
    expect(ok.filter((c) => !c.ok && c.severity === 'error')).toEqual([]);
    expect(ok.find((c) => c.name === 'previous revision')?.detail).toContain(IMAGE('v1.2.2'));
  });
});
