// A sandbox with a state file outlives its process, as a cluster outlives Shipbot: a second
// start loads the same objects (uids, resourceVersions, generations), its pods keep running
// (no second start, no replayed events), and its clock continues from where it was.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../src/clock.js';
import { mergePatch } from '../../src/cluster/kube.js';
import { readSandboxState, resumedClockAt, startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { resourceByKind } from '../../src/sandbox/resources.js';
import { kubeOf } from '../helpers/sandbox-access.js';

const dir = mkdtempSync(path.join(tmpdir(), 'shipbot-sandbox-state-'));
const file = path.join(dir, 'cluster.json');
let sb: Sandbox | undefined;
afterEach(async () => {
  await sb?.close();
  sb = undefined;
});

const podsOf = (s: Sandbox) =>
  s.store
    .list(resourceByKind('Pod'), 'production')
    .filter((p) => p.metadata.labels?.app === 'web')
    .map((p) => ({
      uid: p.metadata.uid,
      ready: p.status?.conditions?.find((c: { type: string }) => c.type === 'Ready')?.status,
      restarts: p.status?.containerStatuses?.[0]?.restartCount,
    }));

describe('a sandbox that keeps its cluster', () => {
  it('restarts with the same objects, running pods and a clock that never goes back', async () => {
    const first = new ScaledClock(60);
    sb = await startSandbox({ clock: first, demo: true, warm: true, stateFile: file });
    const kube = kubeOf(sb);
    await kube.apps.patchNamespacedDeployment({ name: 'web', namespace: 'production', body: { spec: { replicas: 4 } } }, mergePatch);
    await new Promise((r) => setTimeout(r, 500)); // the 4th pod starts (3 s of sandbox time)
    const before = {
      pods: podsOf(sb),
      deployment: sb.store.get(resourceByKind('Deployment'), 'production', 'web').metadata,
      events: sb.store.count(resourceByKind('Event')),
      rv: sb.store.resourceVersion,
      at: first.now(),
    };
    expect(before.pods).toHaveLength(4);
    expect(before.pods.every((p) => p.ready === 'True')).toBe(true);
    await sb.close();

    const saved = readSandboxState(file)!;
    expect(saved.clockAt).toBeGreaterThanOrEqual(before.at);
    const clock = new ScaledClock(60, resumedClockAt(saved));
    expect(clock.now()).toBeGreaterThanOrEqual(before.at);
    sb = await startSandbox({ clock, demo: true, warm: true, stateFile: file });
    expect(podsOf(sb)).toEqual(before.pods);
    expect(sb.store.get(resourceByKind('Deployment'), 'production', 'web').metadata).toEqual(before.deployment);
    expect(sb.store.count(resourceByKind('Event'))).toBe(before.events);
    // New writes continue the resourceVersion sequence; clients see the same cluster.
    await kubeOf(sb).apps.patchNamespacedDeployment(
      { name: 'web', namespace: 'production', body: { metadata: { labels: { touched: 'yes' } } } },
      mergePatch,
    );
    expect(sb.store.resourceVersion).toBeGreaterThan(before.rv);
    expect((await kubeOf(sb).apps.readNamespacedDeployment({ name: 'web', namespace: 'production' })).spec?.replicas).toBe(4);
  });

  it('refuses a damaged state file with a sentence saying what to do', async () => {
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, '{"version": 7}');
    await expect(startSandbox({ clock: new ScaledClock(60), demo: true, stateFile: bad })).rejects.toThrow(
      /bad\.json is not a saved sandbox cluster .*move it away to start a fresh one/,
    );
  });
});

process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
