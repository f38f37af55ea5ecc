// The pure rules the drivers decide with: kubectl's rollout status and undo, canary sizing,
// health signals from pod status, image references.
import type { V1Deployment, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { InvalidRolloutError } from '../../src/cluster/errors.js';
import {
  canaryReplicas,
  describeSignals,
  fatalSignals,
  imageRef,
  imageTag,
  podSignals,
  rolloutStatus,
  servingShare,
  undoPatch,
  versionLabel,
  LABEL_VALUE,
} from '../../src/cluster/rules.js';

function deployment(
  spec: Partial<V1Deployment['spec']> & { replicas?: number },
  status: V1Deployment['status'],
  generation = 2,
): V1Deployment {
  return {
    metadata: { name: 'checkout', generation, annotations: { 'deployment.kubernetes.io/revision': '3', keep: 'me' } },
    spec: { selector: { matchLabels: { app: 'checkout' } }, template: {}, ...spec },
    status: { observedGeneration: 2, ...status },
  };
}

function pod(
  name: string,
  opts: { ready?: boolean; restarts?: number; waiting?: string; lastTerminated?: string; image?: string; started?: string } = {},
): V1Pod {
  return {
    metadata: { name },
    spec: { containers: [{ name: 'app', image: opts.image ?? 'repo:v1' }] },
    status: {
      startTime: new Date(opts.started ?? '2026-01-01T00:00:00Z'),
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }],
      containerStatuses: [
        {
          name: 'app',
          image: opts.image ?? 'repo:v1',
          imageID: '',
          ready: opts.ready !== false,
          restartCount: opts.restarts ?? 0,
          state: opts.waiting ? { waiting: { reason: opts.waiting, message: `${opts.waiting} detail` } } : { running: {} },
          lastState: opts.lastTerminated ? { terminated: { reason: opts.lastTerminated, exitCode: 137 } } : {},
        },
      ],
    },
  };
}

describe('rolloutStatus (kubectl rollout status rules)', () => {
  it('waits until the controller has observed the new generation', () => {
    const s = rolloutStatus(deployment({ replicas: 2 }, { updatedReplicas: 2, replicas: 2, availableReplicas: 2 }, 3));
    expect(s.done).toBe(false);
    expect(s.message).toMatch(/spec update to be observed/);
  });

  it('reports each unfinished condition in kubectl order', () => {
    expect(rolloutStatus(deployment({ replicas: 3 }, { updatedReplicas: 1, replicas: 3, availableReplicas: 3 })).message).toMatch(
      /1 out of 3 new replicas/,
    );
    expect(rolloutStatus(deployment({ replicas: 3 }, { updatedReplicas: 3, replicas: 4, availableReplicas: 3 })).message).toMatch(
      /1 old replicas are pending termination/,
    );
    expect(rolloutStatus(deployment({ replicas: 3 }, { updatedReplicas: 3, replicas: 3, availableReplicas: 2 })).message).toMatch(
      /2 of 3 updated replicas are available/,
    );
  });

  it('is done when every replica is updated and available, including a scale to zero', () => {
    expect(rolloutStatus(deployment({ replicas: 3 }, { updatedReplicas: 3, replicas: 3, availableReplicas: 3 })).done).toBe(true);
    expect(rolloutStatus(deployment({ replicas: 0 }, { updatedReplicas: 0, replicas: 0, availableReplicas: 0 })).done).toBe(true);
  });

  it('fails on an exceeded progress deadline', () => {
    const s = rolloutStatus(
      deployment(
        { replicas: 2 },
        {
          updatedReplicas: 1,
          replicas: 2,
          availableReplicas: 1,
          conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
        },
      ),
    );
    expect(s.done).toBe(false);
    expect(s.failed).toMatch(/exceeded its progress deadline/);
  });
});

describe('canaryReplicas', () => {
  it('sizes the canary so its share of ready replicas matches the stage', () => {
    expect(canaryReplicas(4, 5)).toBe(1); // never zero below 100%
    expect(canaryReplicas(4, 25)).toBe(1); // 1 / 5 = 20%
    expect(canaryReplicas(4, 50)).toBe(4); // 4 / 8 = 50%
    expect(canaryReplicas(10, 25)).toBe(3); // 3 / 13 ≈ 23%
    expect(canaryReplicas(4, 100)).toBe(0); // 100% is promotion, not a bigger canary
  });
});

describe('podSignals', () => {
  const now = Date.parse('2026-01-01T00:10:00Z');

  it('is empty for healthy pods', () => {
    expect(podSignals([pod('a'), pod('b')], now)).toEqual([]);
  });

  it('reports crash loops, OOM kills, image pulls, restarts and readiness as typed signals', () => {
    const signals = podSignals(
      [
        pod('crash', { ready: false, restarts: 4, waiting: 'CrashLoopBackOff' }),
        pod('oom', { ready: false, restarts: 1, lastTerminated: 'OOMKilled' }),
        pod('pull', { ready: false, waiting: 'ImagePullBackOff' }),
        pod('fine'),
      ],
      now,
    );
    expect(signals).toContainEqual({ kind: 'crash-loop', pod: 'crash', container: 'app' });
    expect(signals).toContainEqual({ kind: 'oom-killed', pod: 'oom', container: 'app' });
    expect(signals).toContainEqual({ kind: 'image-pull', pod: 'pull', container: 'app', message: 'ImagePullBackOff detail' });
    expect(signals).toContainEqual({ kind: 'restarts', pod: 'crash', restarts: 4, windowSec: 600 });
    expect(signals).toContainEqual({ kind: 'readiness', failing: 3, total: 4 });
    expect(
      fatalSignals(signals)
        .map((s) => s.kind)
        .sort(),
    ).toEqual(['crash-loop', 'image-pull', 'oom-killed']);
    expect(describeSignals(signals)).toMatch(/CrashLoopBackOff.*OOMKilled.*cannot be pulled/s);
  });

  it('still reports a crash loop while the container is briefly running between back-offs', () => {
    const between = pod('crash', { ready: false, restarts: 2, lastTerminated: 'Error' });
    expect(podSignals([between], now).map((s) => s.kind)).toContain('crash-loop');
    // One restart of a pod still starting is not yet a loop.
    const once = pod('slow-start', { ready: false, restarts: 1, lastTerminated: 'Error' });
    expect(podSignals([once], now).map((s) => s.kind)).not.toContain('crash-loop');
  });

  it('reports a progress deadline from the Deployment', () => {
    const d = deployment(
      {},
      {
        conditions: [
          {
            type: 'Progressing',
            status: 'False',
            reason: 'ProgressDeadlineExceeded',
            message: 'ReplicaSet "x" has timed out progressing.',
          },
        ],
      },
    );
    expect(podSignals([], now, d)).toEqual([
      { kind: 'progress-deadline', deployment: 'checkout', message: 'ReplicaSet "x" has timed out progressing.' },
    ]);
  });
});

describe('undoPatch (kubectl rollout undo)', () => {
  it('copies the ReplicaSet template without its hash label and merges annotations the kubectl way', () => {
    const d = deployment({}, {});
    const rs: V1ReplicaSet = {
      metadata: { annotations: { 'deployment.kubernetes.io/revision': '1', 'kubernetes.io/change-cause': 'old' } },
      spec: {
        selector: { matchLabels: { app: 'checkout' } },
        template: {
          metadata: { labels: { app: 'checkout', 'pod-template-hash': 'abc12' } },
          spec: { containers: [{ name: 'app', image: 'repo:v1' }] },
        },
      },
    };
    const [template, annotations] = undoPatch(d, rs);
    expect(template).toEqual({
      op: 'replace',
      path: '/spec/template',
      value: { metadata: { labels: { app: 'checkout' } }, spec: { containers: [{ name: 'app', image: 'repo:v1' }] } },
    });
    // The Deployment keeps its own revision; other annotations come from the ReplicaSet.
    expect(annotations).toEqual({
      op: 'replace',
      path: '/metadata/annotations',
      value: { 'deployment.kubernetes.io/revision': '3', 'kubernetes.io/change-cause': 'old' },
    });
    expect(rs.spec!.template!.metadata!.labels!['pod-template-hash']).toBe('abc12'); // input untouched
  });
});

describe('image references', () => {
  it('builds repo:tag only from a valid tag', () => {
    expect(imageRef('registry.example.com/shop/checkout', 'v1.2.3')).toBe('registry.example.com/shop/checkout:v1.2.3');
    expect(() => imageRef('repo', 'v1;rm -rf')).toThrow(InvalidRolloutError);
    expect(() => imageRef('repo', '-v1')).toThrow(/not a valid image tag/);
  });

  it('reads the tag after the last colon of the last path segment', () => {
    expect(imageTag('registry.example.com:5000/shop/checkout:v1.2.3-crash')).toBe('v1.2.3-crash');
    expect(imageTag('registry.example.com:5000/shop/checkout')).toBe('latest');
  });

  it('takes a sha256 digest as a version: repo@sha256:…, read back as the digest, labelled with a valid value', () => {
    const digest = `sha256:${'0123456789abcdef'.repeat(4)}`;
    const image = imageRef('registry.example.com:5000/shop/checkout', digest);
    expect(image).toBe(`registry.example.com:5000/shop/checkout@${digest}`);
    expect(imageTag(image)).toBe(digest);
    expect(imageTag(`registry.example.com/shop/checkout:v1.2.3@${digest}`)).toBe(digest);
    const label = versionLabel(digest);
    expect(label).toMatch(LABEL_VALUE);
    expect(label.length).toBeLessThanOrEqual(63);
    expect(label).toMatch(/^sha256-0123456789abcdef/);
    expect(versionLabel(`sha256:${'f'.repeat(64)}`)).not.toBe(label);
    expect(() => imageRef('repo', 'sha256:abc')).toThrow(/not a valid image tag or digest/);
    expect(() => imageRef('repo', `sha256:${'A'.repeat(64)}`)).toThrow(InvalidRolloutError);
  });

  it('measures the share of ready pods running an image', () => {
    expect(servingShare([pod('a'), pod('b', { image: 'repo:v2' }), pod('c', { ready: false })], 'app', 'repo:v1')).toBe(50);
    expect(servingShare([], 'app', 'repo:v1')).toBe(0);
  });
});
