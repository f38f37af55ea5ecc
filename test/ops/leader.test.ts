// Leader election through a coordination.k8s.io Lease on the sandbox API server, over HTTPS with
// its token through @kubernetes/client-node: one leader among many, takeover after a crash within
// the lease duration, at once after a release, and a leader that cannot renew stops leading
// before the Lease can pass. Short timings keep it quick; the rules are client-go's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeFromKubeconfig } from '../../src/cluster/kube.js';
import { type LeaseTiming, LeaderElector, nextMove, type Observed } from '../../src/ops/leader.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';

// Timers on a loaded 2-core machine fire late by hundreds of ms: the deadline leaves room for that.
const T: LeaseTiming = { leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 250 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, ms = 5_000): Promise<number> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > ms) throw new Error(`timed out waiting until ${what}`);
    await sleep(10);
  }
  return performance.now() - t0;
}

describe('nextMove (pure)', () => {
  const seen = (o: Partial<Observed>): Observed => ({ transitions: 3, seenAt: 0, ...o });
  it.each([
    ['no Lease yet', undefined, 'a', false, 0, 'create'],
    ['ours, leading', seen({ holder: 'a' }), 'a', true, 500, 'renew'],
    ['another holds it, renewed lately', seen({ holder: 'b' }), 'a', false, 1_000, 'wait'],
    ['another holds it, unrenewed for a lease duration', seen({ holder: 'b' }), 'a', false, 1_500, 'acquire'],
    ['released', seen({ holder: undefined }), 'a', false, 10, 'acquire'],
    ['our name, but we did not know we led (restart)', seen({ holder: 'a' }), 'a', false, 10, 'acquire'],
  ] as const)('%s', (_, observed, me, leading, now, move) => {
    expect(nextMove(observed, me, leading, now, { leaseDurationMs: 1_500, renewDeadlineMs: 1_000, retryPeriodMs: 100 })).toBe(move);
  });
});

describe('LeaderElector on the sandbox', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await startSandbox();
  });
  afterAll(() => sb?.close());

  const elector = (identity: string, name: string, events: string[] = [], box = sb) =>
    new LeaderElector({
      api: kubeFromKubeconfig(box.kubeconfigYaml()).coordination,
      namespace: 'default',
      name,
      identity,
      timing: T,
      events: {
        started: (term) => events.push(`${identity} started ${term}`),
        stopped: (term) => events.push(`${identity} stopped ${term}`),
      },
    });

  it('ten replicas at once: one leads; after it crashes another leads within the lease duration, with the next term', async () => {
    const events: string[] = [];
    const all = Array.from({ length: 10 }, (_, i) => elector(`shipbot-${i}`, 'crash', events));
    for (const e of all) e.start();
    await until('one leads', () => all.some((e) => e.leading));
    await sleep(600);
    const leaders = all.filter((e) => e.leading);
    expect(leaders).toHaveLength(1);
    const first = leaders[0]!;
    expect(first.term).toBe(1);
    // The leader dies without giving the Lease up.
    await first.stop(false);
    const took = await until('another leads', () => all.some((e) => e !== first && e.leading));
    expect(took).toBeGreaterThanOrEqual(T.leaseDurationMs - 2 * T.retryPeriodMs);
    // Within the lease duration and a few turns (loose: the machine may be busy).
    expect(took).toBeLessThan(T.leaseDurationMs + 10 * T.retryPeriodMs);
    const second = all.find((e) => e.leading)!;
    expect(second.term).toBe(2);
    expect(all.filter((e) => e.leading)).toHaveLength(1);
    expect(events.filter((e) => e.includes('started'))).toHaveLength(2);
    // Standbys first: a leader stopped first releases the Lease, and a standby still running takes it.
    for (const e of all.filter((x) => x !== second)) await e.stop(false);
    await second.stop();
  });

  it('a leader that stops gracefully releases the Lease: a standby takes it at once', async () => {
    const a = elector('a', 'release');
    const b = elector('b', 'release');
    a.start();
    await until('a leads', () => a.leading);
    b.start();
    await sleep(300);
    expect(b.leading).toBe(false);
    await a.stop(true);
    const took = await until('b leads', () => b.leading);
    expect(took).toBeLessThan(T.leaseDurationMs / 2);
    expect(b.term).toBe(2);
    await b.stop();
  });

  it('a leader that cannot renew stops leading before the Lease could pass to another', async () => {
    const own = await startSandbox();
    const events: string[] = [];
    const c = elector('c', 'unreachable', events, own);
    c.start();
    await until('c leads', () => c.leading);
    await own.close();
    // No renewal can succeed from here: by the renew deadline it no longer leads, while the
    // Lease (a lease duration from its last renewal) has not yet passed to anyone.
    await sleep(T.renewDeadlineMs);
    expect(c.leading).toBe(false);
    await until('c is told it stopped', () => events.includes('c stopped 1'), 3_000);
    await c.stop(false);
  });

  it('a leader paused past its renew deadline wakes up not leading, before any turn of its own', async () => {
    let now = 0;
    const d = new LeaderElector({
      api: kubeFromKubeconfig(sb.kubeconfigYaml()).coordination,
      namespace: 'default',
      name: 'paused',
      identity: 'd',
      timing: T,
      now: () => now,
    });
    d.start();
    await until('d leads', () => d.leading);
    // As after SIGSTOP and SIGCONT: the clock jumped, no timer has fired yet.
    now += T.renewDeadlineMs;
    expect(d.leading).toBe(false);
    await d.stop(false);
  });
});
