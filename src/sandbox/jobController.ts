// The Job controller, as Kubernetes 1.32's behaves for a non-indexed Job: one pod at a time,
// a new pod after each failure (with the controller's 10 s doubling back-off) until
// `backoffLimit` is used up, `activeDeadlineSeconds` counted from the start, and the
// SuccessCriteriaMet/FailureTarget conditions set before Complete/Failed. The kubelet decides
// how each pod ends (its image tag: `-migfail` fails, `-mighang` never finishes).
import type { Clock } from '../clock.js';
import type { EventRecorder } from './events.js';
import { controllerOf, deepEqual, isoSeconds, type KObject } from './objects.js';
import { resourceByKind } from './resources.js';
import { createOwnedPod } from './ownedPods.js';
import type { ObjectStore } from './store.js';

const JOBS = resourceByKind('Job');
const PODS = resourceByKind('Pod');

const BACKOFF_MS = 10_000;
const BACKOFF_MAX_MS = 360_000;

type Condition = { type: string; status: 'True'; reason: string; message: string; lastProbeTime: string; lastTransitionTime: string };

export function jobFinished(job: KObject): boolean {
  return (job.status?.conditions ?? []).some((c: Condition) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

export class JobController {
  constructor(
    private readonly store: ObjectStore,
    private readonly events: EventRecorder,
    private readonly clock: Clock,
  ) {}

  syncAll(): void {
    const podsByJob = new Map<string, KObject[]>();
    for (const p of this.store.list(PODS)) {
      const owner = controllerOf(p);
      if (owner?.kind !== 'Job') continue;
      podsByJob.set(owner.uid, [...(podsByJob.get(owner.uid) ?? []), p]);
    }
    for (const job of this.store.list(JOBS)) this.sync(job, podsByJob.get(job.metadata.uid!) ?? []);
  }

  private sync(job: KObject, pods: KObject[]): void {
    if (job.spec?.suspend) return;
    const now = this.clock.now();
    const succeeded = pods.filter((p) => p.status?.phase === 'Succeeded');
    const failed = pods.filter((p) => p.status?.phase === 'Failed');
    let active = pods.filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
    const status: Record<string, unknown> = { ...(job.status ?? {}) };
    status.startTime ??= isoSeconds(now);
    const conditions: Condition[] = [...((status.conditions as Condition[] | undefined) ?? [])];
    const finished = jobFinished(job);
    const cond = (type: string, reason: string, message: string): Condition => ({
      type,
      status: 'True',
      reason,
      message,
      lastProbeTime: isoSeconds(now),
      lastTransitionTime: isoSeconds(now),
    });

    if (!finished) {
      const completions: number = job.spec?.completions ?? 1;
      const backoffLimit: number = job.spec?.backoffLimit ?? 6;
      const deadlineMs =
        job.spec?.activeDeadlineSeconds !== undefined
          ? Date.parse(status.startTime as string) + job.spec.activeDeadlineSeconds * 1000
          : Infinity;
      const fail = (reason: string, message: string) => {
        for (const p of active) this.deletePod(p);
        active = [];
        conditions.push(cond('FailureTarget', reason, message), cond('Failed', reason, message));
        this.events.record(job, 'Warning', reason, message, 'job-controller');
      };
      if (succeeded.length >= completions) {
        conditions.push(
          cond('SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods'),
          cond('Complete', 'CompletionsReached', 'Reached expected number of succeeded pods'),
        );
        status.completionTime = isoSeconds(now);
        this.events.record(job, 'Normal', 'Completed', 'Job completed', 'job-controller');
      } else if (failed.length > backoffLimit) {
        fail('BackoffLimitExceeded', 'Job has reached the specified backoff limit');
      } else if (now >= deadlineMs) {
        fail('DeadlineExceeded', 'Job was active longer than specified deadline');
      } else if (active.length === 0) {
        const lastFailure = Math.max(
          0,
          ...failed.map((p) => Date.parse(p.status?.containerStatuses?.[0]?.state?.terminated?.finishedAt ?? '') || 0),
        );
        const wait = failed.length ? Math.min(BACKOFF_MAX_MS, BACKOFF_MS * 2 ** (failed.length - 1)) : 0;
        if (now >= lastFailure + wait) active = [this.createPod(job)];
      }
    }
    status.conditions = conditions.length ? conditions : undefined;
    status.active = active.length || undefined;
    status.succeeded = succeeded.length || undefined;
    status.failed = failed.length || undefined;
    status.ready = active.filter((p) =>
      p.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True'),
    ).length;
    status.terminating = 0;
    status.uncountedTerminatedPods = {};
    for (const k of Object.keys(status)) if (status[k] === undefined) delete status[k];
    const current = this.store.peek(JOBS, job.metadata.namespace, job.metadata.name!)!;
    if (deepEqual(current.status, status)) return;
    this.store.update(JOBS, { ...current, status }, undefined, true);
  }

  private createPod(job: KObject): KObject {
    return createOwnedPod(this.store, this.events, job, { apiVersion: 'batch/v1', component: 'job-controller' });
  }

  private deletePod(p: KObject): void {
    if (this.store.peek(PODS, p.metadata.namespace, p.metadata.name!)) this.store.delete(PODS, p.metadata.namespace, p.metadata.name!);
  }
}
