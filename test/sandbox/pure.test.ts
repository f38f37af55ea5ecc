// The sandbox's pure decisions on their own: selectors, patches, rolling-update arithmetic,
// fault tags, the pod timeline and quantiles.
import { describe, expect, it } from 'vitest';
import { behaviourOf, faultOfTag } from '../../src/sandbox/behaviour.js';
import { imageTag } from '../../src/sandbox/objects.js';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch } from '../../src/sandbox/patch.js';
import { simulatePod } from '../../src/sandbox/podLifecycle.js';
import { newReplicaSetTarget, oldReplicaSetTargets, surgeAndUnavailable } from '../../src/sandbox/rolloutMath.js';
import { matches, parseLabelSelector } from '../../src/sandbox/selectors.js';
import { fineShares, quantileFromFine } from '../../src/sandbox/stats.js';

describe('selectors', () => {
  it('parses every operator and matches labels', () => {
    const sel = parseLabelSelector('app=web,track!=canary,env in (prod, staging),tier notin (db),team,!legacy');
    expect(matches(sel, { app: 'web', env: 'prod', team: 'a' })).toBe(true);
    expect(matches(sel, { app: 'web', env: 'prod', team: 'a', legacy: 'y' })).toBe(false);
    expect(matches(sel, { app: 'web', env: 'dev', team: 'a' })).toBe(false);
    expect(matches(sel, { app: 'web', env: 'prod', team: 'a', track: 'canary' })).toBe(false);
    expect(() => parseLabelSelector('a in b')).toThrow(/unable to parse/);
  });
});

describe('patches', () => {
  it('JSON patch: add, remove, replace, move, copy, test', () => {
    const doc = { a: [1, 2], b: { c: 1 } };
    expect(
      applyJsonPatch(doc, [
        { op: 'add', path: '/a/-', value: 3 },
        { op: 'remove', path: '/b/c' },
        { op: 'copy', from: '/a/0', path: '/d' },
        { op: 'move', from: '/d', path: '/e' },
      ]),
    ).toEqual({ a: [1, 2, 3], b: {}, e: 1 });
    expect(doc).toEqual({ a: [1, 2], b: { c: 1 } }); // untouched
    expect(() => applyJsonPatch(doc, [{ op: 'test', path: '/b/c', value: 2 }])).toThrow(/test failed/);
  });

  it('merge patch deletes with null and replaces lists', () => {
    expect(applyMergePatch({ a: 1, b: [1, 2], c: { d: 1 } }, { a: null, b: [3], c: { e: 2 } })).toEqual({ b: [3], c: { d: 1, e: 2 } });
  });

  it('strategic merge: merge keys, $patch delete/replace, $setElementOrder, $deleteFromPrimitiveList', () => {
    const orig = {
      spec: {
        containers: [
          { name: 'a', image: 'x', env: [{ name: 'K', value: '1' }] },
          { name: 'b', image: 'y' },
        ],
        finalizers: ['f1', 'f2'],
      },
    };
    expect(applyStrategicMergePatch(orig, { spec: { containers: [{ name: 'a', env: [{ name: 'L', value: '2' }] }] } })).toEqual({
      spec: {
        containers: [
          {
            name: 'a',
            image: 'x',
            env: [
              { name: 'K', value: '1' },
              { name: 'L', value: '2' },
            ],
          },
          { name: 'b', image: 'y' },
        ],
        finalizers: ['f1', 'f2'],
      },
    });
    expect(
      (applyStrategicMergePatch(orig, { spec: { containers: [{ name: 'b', $patch: 'delete' }] } }) as typeof orig).spec.containers.map(
        (c) => c.name,
      ),
    ).toEqual(['a']);
    expect(
      (applyStrategicMergePatch(orig, { spec: { containers: [{ name: 'z', image: 'q' }, { $patch: 'replace' }] } }) as typeof orig).spec
        .containers,
    ).toEqual([{ name: 'z', image: 'q' }]);
    expect(
      (
        applyStrategicMergePatch(orig, { spec: { '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }] } }) as typeof orig
      ).spec.containers.map((c) => c.name),
    ).toEqual(['b', 'a']);
    expect(
      (applyStrategicMergePatch(orig, { spec: { '$deleteFromPrimitiveList/finalizers': ['f1'] } }) as typeof orig).spec.finalizers,
    ).toEqual(['f2']);
  });
});

describe('rolling update arithmetic', () => {
  it('resolves 25% / 25% like the controller (surge rounds up, unavailable down)', () => {
    expect(surgeAndUnavailable({ maxSurge: '25%', maxUnavailable: '25%' }, 10)).toEqual({ surge: 3, unavailable: 2 });
    expect(surgeAndUnavailable({ maxSurge: 0, maxUnavailable: 0 }, 10)).toEqual({ surge: 0, unavailable: 1 });
  });

  it('surges the new ReplicaSet and scales old ones down while keeping minimum availability', () => {
    const newRs = { name: 'new', desired: 0, available: 0 };
    const old = [{ name: 'old', desired: 10, available: 10 }];
    expect(newReplicaSetTarget(10, 3, newRs, [newRs, ...old])).toBe(3);
    // New pods not yet available: old may lose only maxUnavailable (2).
    expect(oldReplicaSetTargets(10, 2, { name: 'new', desired: 3, available: 0 }, old).get('old')).toBe(8);
    // Unhealthy old pods go first and at once.
    expect(
      oldReplicaSetTargets(10, 2, { name: 'new', desired: 3, available: 3 }, [{ name: 'old', desired: 10, available: 6 }]).get('old'),
    ).toBe(5);
  });
});

describe('fault tags', () => {
  it('maps tag suffixes to behaviours', () => {
    expect(imageTag('registry.example.com:5000/shop/checkout:v1.2.3-errors')).toBe('v1.2.3-errors');
    expect(imageTag('registry.example.com:5000/shop/checkout')).toBe('latest');
    expect(faultOfTag('v1.2.3')).toBe('none');
    expect(['-errors', '-slow', '-crash', '-oom', '-missing', '-smokefail'].map((s) => faultOfTag(`v2${s}`))).toEqual([
      'errors',
      'slow',
      'crash',
      'oom',
      'missing',
      'smokefail',
    ]);
    expect(behaviourOf('x:v1-errors').errorRate).toBeCloseTo(0.08);
    expect(behaviourOf('x:v1-slow').medianMs).toBe(behaviourOf('x:v1').medianMs * 2);
  });

  it('gives a crashing pod restarts with back-off, and a healthy pod readiness at podStartMs', () => {
    const info = { namespace: 'n', name: 'p', uid: 'u', node: 'node', container: 'app', image: 'x:v1' };
    expect(simulatePod('none', { podStartMs: 3000 }, info, 2999).view.ready).toBe(false);
    expect(simulatePod('none', { podStartMs: 3000 }, info, 3000).view.ready).toBe(true);
    const crash = (t: number) => simulatePod('crash', { podStartMs: 3000 }, info, t).view.restartCount;
    expect(crash(2000)).toBe(0);
    expect(crash(3100)).toBe(1);
    expect(crash(3000 + 10_000 + 1500 + 100)).toBe(2); // one 10 s back-off later, crashes again
    expect(crash(600_000)).toBeGreaterThan(crash(60_000));
  });
});

describe('quantiles', () => {
  it('recovers the log-normal quantiles from the fine histogram', () => {
    const bins = fineShares(40, Math.log(3) / 2.326);
    expect(quantileFromFine(bins, 0.5)).toBeGreaterThan(38);
    expect(quantileFromFine(bins, 0.5)).toBeLessThan(42);
    expect(quantileFromFine(bins, 0.99)).toBeGreaterThan(112);
    expect(quantileFromFine(bins, 0.99)).toBeLessThan(128);
  });
});
