// The exact artifact (issue 32): the digest the kubelet reported for the release's first pods is
// saved, and production runs that digest even when the tag is re-pointed at a bad build after the
// staging gate passed. Through the sandbox's registry API, over HTTPS with its token.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { FINAL_STATUSES, outcomeOf, reportPathOf } from '../../src/domain/run.js';
import { sandboxFetch } from '../helpers/sandbox-access.js';
import { SHIPPED, servingImages, started, startWorld, until, type World } from './world.js';

let w: World | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

const TAG = 'registry.example.com/shop/checkout:v1.2.3';

describe('the exact artifact', () => {
  it('a tag re-pointed between the staging gate and production leaves production on the digest staging ran', async () => {
    w = await startWorld({ config: SHIPPED });
    const run = started(await w.deploy('deploy checkout v1.2.3 rolling to production'));
    const gate = await until(w.runner, run.id, (v) => v.steps.some((s) => s.key === 'staging-gate' && s.status === 'running'));
    expect(gate.phase.status).toBe('running');
    const pinned = (await w.runner.record(run.id))!.data.artifact!;
    expect(pinned).toMatchObject({
      environment: 'staging',
      image: expect.stringMatching(/^registry\.example\.com\/shop\/checkout@sha256:[a-f0-9]{64}$/),
    });
    // Someone pushes a bad build under the same tag.
    const res = await sandboxFetch(w.sandbox)('/sandbox/v1/registry/tags', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ image: TAG, like: 'v1.2.3-errors' }),
    });
    expect(res.status).toBe(200);
    const moved = ((await res.json()) as { digest: string }).digest;
    expect(moved).not.toBe(pinned.digest);

    const done = await until(w.runner, run.id, (v) => FINAL_STATUSES.has(v.phase.status) || v.phase.status === 'awaiting-decision');
    expect(done.phase.status, outcomeOf(done)).toBe('succeeded');
    const serving = await servingImages(w, 'checkout');
    expect(serving.length).toBeGreaterThan(0);
    expect(new Set(serving)).toEqual(new Set([pinned.image]));
    // The report names the exact build.
    expect(readFileSync(reportPathOf((await w.runner.record(run.id))!)!, 'utf8')).toContain(pinned.image);
  });

  it('without a pin, the moved tag is what a pod pulls: the sandbox really moves it', async () => {
    w = await startWorld();
    const res = await sandboxFetch(w.sandbox)('/sandbox/v1/registry/tags', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ image: TAG, like: 'v1.2.3-errors' }),
    });
    const { digest } = (await res.json()) as { digest: string };
    const run = started(await w.deploy('deploy checkout v1.2.3 rolling'));
    await until(w.runner, run.id, (v) => FINAL_STATUSES.has(v.phase.status) || v.phase.status === 'awaiting-decision');
    // The release pulled the moved build, behaved like -errors, and Shipbot caught it.
    expect((await w.runner.record(run.id))!.data.artifact?.digest).toBe(digest);
    expect((await w.runner.get(run.id))!.phase.status).not.toBe('succeeded');
  });
});
