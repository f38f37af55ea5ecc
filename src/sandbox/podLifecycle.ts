// What a simulated kubelet shows for one pod at a moment of its life: phase, container state,
// restarts and the Events a real node would have emitted so far. A pure function of the fault,
// the timings and the time since the pod was created, so it is cheap to recompute every tick.
import type { Fault } from './behaviour.js';

export interface Timing {
  /** From creation until the container is Ready (virtual ms). */
  podStartMs: number;
}

/** Kubelet's CrashLoopBackOff: 10 s, doubling, at most 5 minutes. */
export const BACKOFF_INITIAL_MS = 10_000;
export const BACKOFF_MAX_MS = 300_000;

export function backoffMs(restarts: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_INITIAL_MS * 2 ** Math.max(0, restarts - 1));
}

export type ContainerState =
  | { waiting: { reason: string; message?: string } }
  | { running: { startedAt: number } }
  | { terminated: { exitCode: number; reason: string; startedAt: number; finishedAt: number } };

export interface PodView {
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  ready: boolean;
  started: boolean;
  restartCount: number;
  state: ContainerState;
  lastState?: { terminated: { exitCode: number; reason: string; startedAt: number; finishedAt: number } };
  /** When the pod got its IP (container sandbox up). */
  ipAt?: number;
}

export interface LifecycleEvent {
  at: number;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  /** Repeated events (BackOff) aggregate into one Event with a count, as the kubelet's do. */
  component: 'default-scheduler' | 'kubelet';
}

export interface PodInfo {
  namespace: string;
  name: string;
  uid: string;
  node: string;
  container: string;
  image: string;
}

/** The pod at `elapsed`, the Events so far, and when (elapsed ms) anything changes next. */
export function simulatePod(
  fault: Fault,
  timing: Timing,
  info: PodInfo,
  elapsed: number,
): { view: PodView; events: LifecycleEvent[]; nextAt: number } {
  let nextAt = Infinity;
  const later = (at: number) => {
    if (at > elapsed && at < nextAt) nextAt = at;
  };
  const r = timeline(fault, timing, info, elapsed, later);
  return { ...r, nextAt };
}

function timeline(
  fault: Fault,
  timing: Timing,
  info: PodInfo,
  elapsed: number,
  later: (at: number) => void,
): { view: PodView; events: LifecycleEvent[] } {
  const events: LifecycleEvent[] = [];
  const ev = (
    at: number,
    type: LifecycleEvent['type'],
    reason: string,
    message: string,
    component: LifecycleEvent['component'] = 'kubelet',
  ) => {
    if (at <= elapsed) events.push({ at, type, reason, message, component });
    else later(at);
  };
  const start = Math.max(1, timing.podStartMs);
  const pullAt = Math.round(start * 0.1);
  const pulledAt = Math.round(start * 0.5);
  const c = info.container;
  ev(0, 'Normal', 'Scheduled', `Successfully assigned ${info.namespace}/${info.name} to ${info.node}`, 'default-scheduler');
  ev(pullAt, 'Normal', 'Pulling', `Pulling image "${info.image}"`);
  const pending: PodView = {
    phase: 'Pending',
    ready: false,
    started: false,
    restartCount: 0,
    state: { waiting: { reason: 'ContainerCreating' } },
  };

  if (fault === 'missing') {
    // Pull fails, then the kubelet backs off pulling, forever.
    ev(
      pulledAt,
      'Warning',
      'Failed',
      `Failed to pull image "${info.image}": rpc error: code = NotFound desc = failed to pull and unpack image "${info.image}": not found`,
    );
    ev(pulledAt, 'Warning', 'Failed', 'Error: ErrImagePull');
    let t = pulledAt;
    let n = 1;
    while (t + backoffMs(n) <= elapsed && n < 1000) {
      t += backoffMs(n);
      ev(t, 'Normal', 'BackOff', `Back-off pulling image "${info.image}"`);
      ev(t, 'Warning', 'Failed', 'Error: ImagePullBackOff');
      n++;
    }
    later(t + backoffMs(n));
    if (elapsed < pulledAt) return { view: pending, events };
    later(pulledAt + Math.min(backoffMs(1), start));
    const inBackoff = elapsed >= pulledAt + Math.min(backoffMs(1), start);
    const reason = inBackoff ? 'ImagePullBackOff' : 'ErrImagePull';
    const message = inBackoff
      ? `Back-off pulling image "${info.image}"`
      : `rpc error: code = NotFound desc = failed to pull and unpack image "${info.image}": not found`;
    return { view: { ...pending, state: { waiting: { reason, message } } }, events };
  }

  ev(pulledAt, 'Normal', 'Pulled', `Successfully pulled image "${info.image}" in ${((pulledAt - pullAt) / 1000).toFixed(3)}s`);
  ev(pulledAt, 'Normal', 'Created', `Created container ${c}`);
  ev(pulledAt, 'Normal', 'Started', `Started container ${c}`);
  if (elapsed < pulledAt) return { view: pending, events };

  if (fault !== 'crash' && fault !== 'oom') {
    later(start);
    const ready = elapsed >= start;
    return {
      view: { phase: 'Running', ready, started: true, restartCount: 0, state: { running: { startedAt: pulledAt } }, ipAt: pulledAt },
      events,
    };
  }

  // Crash loop: run for a while, die, back off (10 s doubling to 5 min), start again.
  const runMs = Math.max(500, Math.round(start * 0.5));
  const exit = fault === 'oom' ? { exitCode: 137, reason: 'OOMKilled' } : { exitCode: 1, reason: 'Error' };
  let startedAt = pulledAt;
  let restarts = 0;
  let last: PodView['lastState'];
  for (;;) {
    const diesAt = startedAt + runMs;
    later(diesAt);
    if (elapsed < diesAt) {
      return {
        view: {
          phase: 'Running',
          ready: false,
          started: true,
          restartCount: restarts,
          state: { running: { startedAt } },
          lastState: last,
          ipAt: pulledAt,
        },
        events,
      };
    }
    restarts++;
    last = { terminated: { ...exit, startedAt, finishedAt: diesAt } };
    const wait = backoffMs(restarts);
    ev(diesAt, 'Warning', 'BackOff', `Back-off restarting failed container ${c} in pod ${info.name}_${info.namespace}(${info.uid})`);
    later(diesAt + wait);
    if (elapsed < diesAt + wait) {
      return {
        view: {
          phase: 'Running',
          ready: false,
          started: false,
          restartCount: restarts,
          state: {
            waiting: {
              reason: 'CrashLoopBackOff',
              message: `back-off ${Math.round(wait / 1000)}s restarting failed container=${c} pod=${info.name}_${info.namespace}(${info.uid})`,
            },
          },
          lastState: last,
          ipAt: pulledAt,
        },
        events,
      };
    }
    startedAt = diesAt + wait;
    ev(startedAt, 'Normal', 'Pulled', `Container image "${info.image}" already present on machine`);
    ev(startedAt, 'Normal', 'Created', `Created container ${c}`);
    ev(startedAt, 'Normal', 'Started', `Started container ${c}`);
  }
}

/** How a run-to-completion pod (restartPolicy Never or OnFailure: a Job's) ends. */
export type Completion = 'succeeds' | 'fails' | 'hangs';

/** Virtual ms a migration container runs before it exits. */
export const JOB_RUN_MS = { succeeds: 8_000, fails: 4_000 } as const;

/**
 * A Job's pod: pulled and started as any other, then it exits, 0 (phase Succeeded) or 1 (Failed),
 * or runs on. An image that cannot be pulled waits as a server's pod would.
 */
export function simulateJobPod(
  completion: Completion,
  missingImage: boolean,
  timing: Timing,
  info: PodInfo,
  elapsed: number,
): { view: PodView; events: LifecycleEvent[]; nextAt: number } {
  if (missingImage) return simulatePod('missing', timing, info, elapsed);
  const { view, events, nextAt } = simulatePod('none', timing, info, elapsed);
  const startedAt = 'running' in view.state ? view.state.running.startedAt : undefined;
  if (startedAt === undefined || completion === 'hangs') return { view, events, nextAt };
  const exitAt = Math.max(1, timing.podStartMs) + JOB_RUN_MS[completion];
  if (elapsed < exitAt) return { view, events, nextAt: Math.min(nextAt, exitAt) };
  const ok = completion === 'succeeds';
  const terminated = { exitCode: ok ? 0 : 1, reason: ok ? 'Completed' : 'Error', startedAt, finishedAt: exitAt };
  return {
    view: {
      phase: ok ? 'Succeeded' : 'Failed',
      ready: false,
      started: false,
      restartCount: 0,
      state: { terminated },
      ...(view.ipAt !== undefined ? { ipAt: view.ipAt } : {}),
    },
    events,
    nextAt: Infinity,
  };
}
