// The pure half of Argo Rollouts: rows from a Rollout's steps, the plugin's patch bodies for
// promote in each state (argo-rollouts pkg/kubectl-argo-rollouts/cmd/promote getPatches), undo,
// and the sandbox controller's replica arithmetic (utils/replicaset/canary.go).
import { describe, expect, it } from 'vitest';
import {
  ABORT,
  PAUSE,
  PROMOTE_FULL,
  promoteFullPatches,
  promotePatches,
  RETRY,
  type RolloutObject,
  rolloutStages,
  sameTemplate,
  UNPAUSE,
  undoPatch,
} from '../../src/cluster/argo-rules.js';
import { goDurationSeconds } from '../../src/domain/go-duration.js';
import { basicCanaryCounts } from '../../src/sandbox/rolloutMath.js';
import { evalCondition } from '../../src/sandbox/analysisController.js';

const STEPS = [{ setWeight: 20 }, { pause: { duration: '60s' } }, { setWeight: 50 }, { pause: {} }, { setWeight: 100 }];

function canary(status: RolloutObject['status'], paused = false): RolloutObject {
  return { metadata: { name: 'shop' }, spec: { paused, strategy: { canary: { steps: STEPS } } }, status };
}

describe('the plugin’s calls, byte for byte as JSON', () => {
  it('abort, retry, pause, the spec half of promote, promote --full', () => {
    expect(JSON.stringify(ABORT)).toBe('{"status":{"abort":true}}');
    expect(JSON.stringify(RETRY)).toBe('{"status":{"abort":false}}');
    expect(JSON.stringify(PAUSE)).toBe('{"spec":{"paused":true}}');
    expect(JSON.stringify(UNPAUSE)).toBe('{"spec":{"paused":false}}');
    expect(JSON.stringify(PROMOTE_FULL)).toBe('{"status":{"promoteFull":true}}');
  });

  it('promote at a pause clears the pause conditions (status), and unpauses too when spec.paused', () => {
    const at = canary({ currentStepIndex: 3, pauseConditions: [{ reason: 'CanaryPauseStep' }], controllerPause: true });
    expect(promotePatches(at)).toEqual({
      status: { status: { pauseConditions: null } },
      unified: { spec: { paused: false }, status: { pauseConditions: null } },
    });
    const paused = canary({ currentStepIndex: 3, pauseConditions: [{ reason: 'CanaryPauseStep' }], controllerPause: true }, true);
    expect(promotePatches(paused)).toMatchObject({ status: { status: { pauseConditions: null } }, spec: { spec: { paused: false } } });
  });

  it('after an inconclusive analysis: conditions cleared, controllerPause false, the next step index', () => {
    const ro = canary({
      currentStepIndex: 2,
      pauseConditions: [{ reason: 'InconclusiveAnalysisRun' }],
      controllerPause: true,
      canary: { currentStepAnalysisRunStatus: { status: 'Inconclusive' } },
    });
    expect(promotePatches(ro)?.status).toEqual({ status: { pauseConditions: null, controllerPause: false, currentStepIndex: 3 } });
  });

  it('never the plugin’s skip of a running step: a canary not waiting at a pause is not promoted', () => {
    expect(promotePatches(canary({ currentStepIndex: 0 }))).toBeUndefined();
    expect(promotePatches(canary({ currentStepIndex: 2, pauseConditions: [] }))).toBeUndefined();
  });

  it('promote --full sends promoteFull only when the new version is not yet stable', () => {
    expect(promoteFullPatches(canary({ currentPodHash: 'new', stableRS: 'old' }, true))).toEqual({
      status: { status: { promoteFull: true } },
      spec: { spec: { paused: false } },
      unified: { spec: { paused: false }, status: { promoteFull: true } },
    });
    expect(promoteFullPatches(canary({ currentPodHash: 'same', stableRS: 'same' })).status).toBeUndefined();
  });

  it('undo replaces /spec/template with the ReplicaSet’s template without the rollouts-pod-template-hash label', () => {
    const template = {
      metadata: { labels: { app: 'shop', 'rollouts-pod-template-hash': 'abc' } },
      spec: { containers: [{ name: 'app', image: 'x:1' }] },
    };
    expect(undoPatch(template)).toEqual([
      {
        op: 'replace',
        path: '/spec/template',
        value: { metadata: { labels: { app: 'shop' } }, spec: { containers: [{ name: 'app', image: 'x:1' }] } },
      },
    ]);
    expect(template.metadata.labels['rollouts-pod-template-hash']).toBe('abc');
    expect(sameTemplate(template, undoPatch(template)[0]!.value)).toBe(true);
    expect(sameTemplate(template, { ...template, spec: { containers: [{ name: 'app', image: 'x:2' }] } })).toBe(false);
  });
});

describe('rows from a Rollout’s steps', () => {
  it('canary: weights judged, timed pauses, an open pause that waits for Accept, an analysis, then stable', () => {
    const rows = rolloutStages('canary', [
      ...STEPS.slice(0, 2),
      { analysis: { templates: [{ templateName: 'success-rate' }] } },
      ...STEPS.slice(2),
    ]);
    expect(rows.map((r) => [r.title, r.trafficPct, r.monitor, r.waitsForAccept ?? false])).toEqual([
      ['canary 20%', 20, true, false],
      ['pause 60s', 20, false, false],
      ['Argo analysis success-rate', 20, false, false],
      ['canary 50%', 50, true, false],
      ['waiting for Accept', 50, false, true],
      ['canary 100%', 100, false, false],
      ['promote to 100%', 100, false, false],
    ]);
    expect(new Set(rows.map((r) => r.key)).size).toBe(rows.length);
  });

  it('blue-green: the Accept row only without auto-promotion', () => {
    expect(rolloutStages('blue-green', [], true).map((r) => r.title)).toEqual(['preview', 'cutover']);
    expect(rolloutStages('blue-green', [], false).map((r) => r.title)).toEqual(['preview', 'waiting for Accept', 'cutover']);
  });
});

describe('Go durations and the controller’s replica arithmetic', () => {
  it.each([
    [60, 60],
    ['60', 60],
    ['60s', 60],
    ['5m', 300],
    ['1h30m', 5400],
    ['1.5m', 90],
    [undefined, undefined],
    ['soon', undefined],
    ['5m later', undefined],
  ])('%s → %s s', (d, s) => {
    expect(goDurationSeconds(d as string | number | undefined)).toBe(s);
  });

  it.each([
    [5, 20, [1, 4]],
    [5, 50, [3, 2]],
    [20, 20, [4, 16]],
    [3, 10, [1, 2]],
    [4, 100, [4, 0]],
    [4, 0, [0, 4]],
    [1, 50, [1, 0]],
  ])('%i replicas at weight %i: [canary, stable] = %j', (replicas, weight, counts) => {
    expect(basicCanaryCounts(replicas, weight)).toEqual(counts);
  });

  it('evaluates the analysis conditions the sandbox supports, and refuses the rest', () => {
    expect(evalCondition('result < 0.05', 0.01)).toBe(true);
    expect(evalCondition('result[0] >= 0.95', 0.9)).toBe(false);
    expect(evalCondition('result > 1 || result < 0', -1)).toBe(true);
    expect(evalCondition('result > 0 && result < 1', 1)).toBe(false);
    expect(() => evalCondition('len(result) > 0', 1)).toThrow(/only comparisons/);
  });
});
