// Runs a release's migration Job and waits for its outcome: the I/O beside migration-job.ts.
// Safe to call again at any point (a resume, a retry): the Job is found by its fixed name and
// waited on, never created twice; a failed Job another run left behind is replaced.
import type { V1Job, V1JobSpec } from '@kubernetes/client-node';
import type { Clock } from '../clock.js';
import { ClusterApi } from './api.js';
import { createOrRead } from './errors.js';
import type { Kube } from './kube.js';
import { jobImage, jobState, migrationJob, RUN_LABEL, templateOfJob, type MigrationJobInput } from './migration-job.js';

/** The Job to run: its manifest's inputs, with the template as configured or a Job to clone. */
export type MigrationTarget = Omit<MigrationJobInput, 'template'> & {
  /** The team's JobSpec (as configured: the API server validates it), or the name of a Job in the namespace to clone. */
  template: { spec: object } | { fromJob: string };
};

export type MigrationResult =
  | { ok: true; detail: string; reused: boolean }
  | { ok: false; reason: 'failed' | 'timeout'; detail: string; log?: JobLog };

function failure(reason: 'failed' | 'timeout', detail: string, log: JobLog | undefined): MigrationResult {
  return log ? { ok: false, reason, detail, log } : { ok: false, reason, detail };
}

/**
 * A deleted Job can linger while the API server finalizes it; creating its successor under the
 * same name before then would find the old, failed one. Bounded: a minute of clock time.
 */
async function whenGone(api: ClusterApi, t: MigrationTarget, deps: MigrationDeps): Promise<void> {
  const until = deps.clock.now() + 60_000;
  while (await api.findJob(t.namespace, t.name)) {
    if (deps.clock.now() >= until)
      throw new Error(`Job ${t.name} of an earlier run was deleted but is still there after a minute; delete it by hand and retry`);
    await deps.clock.sleep(deps.pollMs ?? 2000);
  }
}

/** The last lines of the Job's newest pod. */
export interface JobLog {
  pod: string;
  lines: string[];
}

export interface MigrationDeps {
  kube: Kube;
  clock: Clock;
  pollMs?: number;
  /** Log lines kept from the Job's last pod on failure (default 20). */
  tailLines?: number;
}

export async function runMigration(
  deps: MigrationDeps,
  t: MigrationTarget,
  opts: { signal?: AbortSignal; progress?: (line: string) => void } = {},
): Promise<MigrationResult> {
  const api = new ClusterApi(deps.kube);
  const job = await ensureJob(api, t, deps);
  const reused = job.metadata?.labels?.[RUN_LABEL] !== t.runId;
  // The cluster enforces activeDeadlineSeconds; this bound is for a controller that does not.
  const started = Date.parse(String(job.status?.startTime ?? '')) || deps.clock.now();
  const deadline = started + (t.timeoutSec + 60) * 1000;
  let current = job;
  // The pods of a Job past its deadline are deleted with it: keep the last log lines seen while it ran.
  let seen: JobLog | undefined;
  const tail = async () => (await logTail(api, t, deps.tailLines ?? 20)) ?? seen;
  for (;;) {
    const s = jobState(current);
    if (s.state === 'complete')
      return {
        ok: true,
        reused,
        detail: `Job ${t.name} ${s.detail}${reused ? ' (an earlier run of this release applied it: not run again)' : ''}`,
      };
    if (s.state === 'failed') {
      const why = s.reason === 'DeadlineExceeded' ? `did not finish within ${t.timeoutSec}s` : `failed (${s.reason}: ${s.detail})`;
      return failure(s.reason === 'DeadlineExceeded' ? 'timeout' : 'failed', `Job ${t.name} ${why}`, await tail());
    }
    if (deps.clock.now() >= deadline) {
      return failure('timeout', `Job ${t.name} did not finish within ${t.timeoutSec}s (${s.detail})`, await tail());
    }
    if (s.state === 'running' && (current.status?.active ?? 0) > 0) {
      seen = (await logTail(api, t, deps.tailLines ?? 20)) ?? seen;
    }
    opts.progress?.(`Job ${t.name}: ${s.detail}`);
    await deps.clock.sleep(deps.pollMs ?? 2000, opts.signal);
    current = await api.getJob(t.namespace, t.name);
  }
}

/** The Job of this release: the one already there, or a new one. A failed Job of another run is replaced (that is a retry). */
async function ensureJob(api: ClusterApi, t: MigrationTarget, deps: MigrationDeps): Promise<V1Job> {
  const found = await api.findJob(t.namespace, t.name);
  // The name is keyed by the image, so another image here is not this release's migration: never done.
  const theirs = found && jobImage(found, t.container);
  if (found && theirs !== t.image)
    throw new Error(
      `Job ${t.name} already exists and runs ${theirs ?? 'no image'}, not ${t.image}: it is not this release's migration. Delete it (kubectl delete job ${t.name} -n ${t.namespace}) and deploy again.`,
    );
  if (found) {
    const s = jobState(found);
    if (s.state !== 'failed' || found.metadata?.labels?.[RUN_LABEL] === t.runId) return found;
    await api.deleteJob(t.namespace, t.name);
    await whenGone(api, t, deps);
  }
  const template = 'spec' in t.template ? (t.template.spec as V1JobSpec) : templateOfJob(await api.getJob(t.namespace, t.template.fromJob));
  const input: MigrationJobInput = { ...t, template };
  // Created meanwhile (an earlier attempt's create landed first): wait on that one.
  return createOrRead(
    () => api.createJob(t.namespace, migrationJob(input)),
    () => api.getJob(t.namespace, t.name),
  );
}

/** The last lines of the Job's newest pod, for the thread; undefined when there are none. */
async function logTail(api: ClusterApi, t: MigrationTarget, lines: number): Promise<JobLog | undefined> {
  try {
    const pods = await api.listPods(t.namespace, `batch.kubernetes.io/job-name=${t.name}`);
    const newest = pods.sort((a, b) =>
      String(b.metadata?.creationTimestamp ?? '').localeCompare(String(a.metadata?.creationTimestamp ?? '')),
    )[0];
    if (!newest?.metadata?.name) return undefined;
    const container = t.container ?? newest.spec?.containers[0]?.name ?? '';
    const text = await api.readPodLog(t.namespace, newest.metadata.name, container, lines);
    const out = text.split('\n').filter(Boolean);
    return out.length ? { pod: newest.metadata.name, lines: out } : undefined;
  } catch {
    return undefined; // logs are optional: RBAC may not grant pods/log, the pod may be gone
  }
}
