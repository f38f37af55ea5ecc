// The pure half of the traffic router: whether a gateway has taken a route's generation. The
// sandbox's gateway answers at once, so the waiting cases are pinned here as a real gateway
// reports them (a stale observedGeneration, a backend that does not resolve, no status at all).
import { describe, expect, it } from 'vitest';
import { acceptance } from '../../src/cluster/route-split.js';

const cond = (type: string, status: string, observedGeneration: number, reason = type) => ({
  type,
  status,
  reason,
  message: `${type} ${status}`,
  observedGeneration,
});
const route = (generation: number, parents?: unknown[], conditions?: unknown[]) => ({
  metadata: { generation },
  ...(parents || conditions ? { status: { ...(parents ? { parents } : {}), ...(conditions ? { conditions } : {}) } } : {}),
});

describe('acceptance', () => {
  it('waits while a parent still reports an older generation, and accepts once every parent is current', () => {
    const stale = { parentRef: { name: 'gw-a' }, conditions: [cond('Accepted', 'True', 2), cond('ResolvedRefs', 'True', 2)] };
    const current = { parentRef: { name: 'gw-b' }, conditions: [cond('Accepted', 'True', 3), cond('ResolvedRefs', 'True', 3)] };
    expect(acceptance(route(3, [current, stale]))).toEqual({ state: 'pending' });
    expect(acceptance(route(3, [current, { ...stale, conditions: [cond('Accepted', 'True', 3)] }]))).toEqual({ state: 'accepted' });
  });

  it('is rejected when a current condition says a backend does not resolve or the route is not accepted', () => {
    const missing = {
      parentRef: { name: 'gw-a' },
      conditions: [cond('Accepted', 'True', 4), cond('ResolvedRefs', 'False', 4, 'BackendNotFound')],
    };
    expect(acceptance(route(4, [missing]))).toEqual({
      state: 'rejected',
      detail: 'gw-a: ResolvedRefs=False (BackendNotFound): ResolvedRefs False',
    });
    expect(
      acceptance(route(4, [{ parentRef: { name: 'gw-a' }, conditions: [cond('Accepted', 'False', 4, 'NotAllowedByListeners')] }])),
    ).toMatchObject({ state: 'rejected' });
    // A stale False is history, not a verdict on the new generation.
    expect(acceptance(route(5, [missing]))).toEqual({ state: 'pending' });
  });

  it("has nothing to wait for when the implementation reports no status; reads Istio's Reconciled when it does", () => {
    expect(acceptance(route(2))).toEqual({ state: 'unreported' });
    expect(acceptance(route(2, undefined, [cond('Reconciled', 'True', 1)]))).toEqual({ state: 'pending' });
    expect(acceptance(route(2, undefined, [cond('Reconciled', 'True', 2)]))).toEqual({ state: 'accepted' });
  });
});
