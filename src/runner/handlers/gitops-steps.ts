// The steps of a release whose environment a reconciler owns (`gitops`): pause it before the
// rollout (its setting saved first, so a crash puts it back), write the release to Git after the
// promotion, and resume it; after a rollback Git still names the old version, so resuming keeps
// it. A reconciler is never resumed while Git disagrees with what serves.
import { ownTarget } from '../../store/records.js';
import { describeGitopsOwner } from '../../domain/gitops-owner.js';
import { GitError } from '../../gitops/git.js';
import { imageRef } from '../../cluster/rules.js';
import { rollbackOf } from '../../domain/run.js';
import { askPerson, type StepContext } from './step-context.js';
import type { StepOutcome } from '../model/steps.js';

/** How long a resumed owner may take to report the commit applied (clock seconds). */
const SETTLE_SEC = 300;
const POLL_MS = 5_000;

function actions(ctx: StepContext) {
  if (!ctx.gitops) throw new Error('this Shipbot was built without GitOps actions');
  return ctx.gitops;
}

export async function suspendOwnerStep(ctx: StepContext): Promise<StepOutcome> {
  const g = actions(ctx);
  let saved = ctx.run.data.gitops;
  if (!saved) {
    const snapshot = await g.snapshot(ctx.ref);
    const owner = describeGitopsOwner(ctx.ref.gitops!);
    ctx.commit({ gitops: { owner, snapshot } });
    saved = { owner, snapshot };
  }
  await g.suspend(ctx.ref);
  const was =
    saved.snapshot.tool === 'argocd'
      ? saved.snapshot.automated
        ? 'auto-sync was on'
        : 'auto-sync was off'
      : saved.snapshot.suspend
        ? 'it was suspended already'
        : 'it was applying';
  return { status: 'done', detail: `${saved.owner} paused (${was}); Shipbot puts it back after the release is in Git` };
}

export async function commitReleaseStep(ctx: StepContext): Promise<StepOutcome> {
  const { run } = ctx;
  const g = actions(ctx);
  // Exactly what production runs now: Git and the cluster agree when the owner resumes.
  const image = ownTarget(run).rollout?.newImage ?? imageRef(ctx.ref.imageRepo, run.version);
  const who = run.requester.name ?? run.requester.userId;
  const message = `shipbot: ${run.service} ${run.version} to ${run.environment}\n\nRun ${run.id}, requested by ${who}; report ${run.id}.md.\nImage: ${image}`;
  try {
    const r = await g.commit(ctx.ref, image, message);
    ctx.commit({ gitops: { ...run.data.gitops!, commit: { sha: r.sha, committed: r.committed } } });
    const branch = ctx.ref.gitops!.git.branch;
    return {
      status: 'done',
      detail: r.committed
        ? `${r.sha.slice(0, 7)} on ${branch} names ${image}${r.rebases ? ` (rebased on ${r.rebases} newer commit${r.rebases > 1 ? 's' : ''})` : ''}`
        : `${branch} already names ${image} (${r.sha.slice(0, 7)})`,
    };
  } catch (err) {
    const why = err instanceof GitError ? err.message : (err as Error).message;
    const explanation = `the release serves, but Git could not be updated (${why}). ${run.data.gitops?.owner ?? 'The reconciler'} stays paused, since resuming it now would put the old version back. Fix the push and press Accept to try again later by hand, or Rollback`;
    return { status: 'failed', detail: why, result: askPerson('git', explanation, why) };
  }
}

export async function resumeOwnerStep(ctx: StepContext): Promise<StepOutcome> {
  const { run } = ctx;
  const saved = run.data.gitops;
  if (!saved) return { status: 'skipped', detail: 'the reconciler was never paused' };
  const rolledBack = Boolean(rollbackOf(run));
  if (!rolledBack && !saved.commit)
    return {
      status: 'warning',
      detail: `${saved.owner} left paused: Git does not name the release yet, and resuming would put the old version back`,
    };
  const g = actions(ctx);
  await g.resume(ctx.ref, saved.snapshot);
  // After a success, wait for the commit to be applied; after a rollback, for it to be in sync.
  const want = rolledBack ? undefined : saved.commit!.sha;
  const deadline = ctx.clock.now() + SETTLE_SEC * 1000;
  for (;;) {
    const s = await g.status(ctx.ref);
    if (s.settled && (!want || s.revision === want))
      return { status: 'done', detail: `${saved.owner} resumed: ${s.detail}${s.revision ? ` at ${s.revision.slice(0, 7)}` : ''}` };
    if (ctx.clock.now() >= deadline)
      return {
        status: 'warning',
        detail: `${saved.owner} resumed, but it has not reported ${want ? `applying ${want.slice(0, 7)}` : 'in sync'} within ${SETTLE_SEC / 60} min (${s.detail}): check it`,
      };
    await ctx.clock.sleep(POLL_MS, ctx.signal);
  }
}
