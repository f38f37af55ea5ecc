// The simulated scheduler and kubelets: bind pods to nodes, then write each pod's status and
// Events as its image tag dictates (see podLifecycle.ts), on the sandbox clock.
import type { Clock } from '../clock.js';
import { repoOf } from '../domain/image-ref.js';
import { behaviourOf, completionOf } from './behaviour.js';
import type { EventRecorder } from './events.js';
import { clone, deepEqual, isoSeconds, type KObject } from './objects.js';
import { simulateJobPod, simulatePod, type ContainerState, type PodView } from './podLifecycle.js';
import { resourceByKind } from './resources.js';
import type { ObjectStore } from './store.js';

const PODS = resourceByKind('Pod');
const NODES = resourceByKind('Node');

interface PodSim {
  createdMs: number;
  ip: string;
  emitted: Map<string, number>;
  /** What the last status was computed from; the same inputs give the same status. */
  signature?: string;
  /** The stored pod the signature was checked against. */
  seen?: KObject;
  /** Virtual ms (since creation) of the next milestone: nothing to do before it. */
  nextAt?: number;
  /** What each container pulled, `repo@sha256:…`: a tag re-pointed later does not change a running pod. */
  pulled: string[];
}

export class Kubelet {
  private readonly sims = new Map<string, PodSim>();
  private ipCounter = 0;
  /** While set, pods seen for the first time count as started `podStartMs` ago (warm start). */
  backdateNewPods = false;
  /** While set, pods seen for the first time were loaded from a saved cluster: they started at their creation, and their past events are not replayed. */
  restoring = false;
  private nextNode = 0;

  constructor(
    private readonly store: ObjectStore,
    private readonly events: EventRecorder,
    private readonly clock: Clock,
    private readonly podStartMs: () => number,
  ) {}

  /** When the pod was created, in virtual ms (for tests and the overview). */
  createdAt(uid: string): number | undefined {
    return this.sims.get(uid)?.createdMs;
  }

  syncAll(): void {
    const now = this.clock.now();
    const live = new Set<string>();
    const nodes = this.store.list(NODES);
    for (const p of this.store.list(PODS)) {
      live.add(p.metadata.uid!);
      let pod = p;
      if (!pod.spec?.nodeName && nodes.length) {
        const next = clone(pod);
        next.spec.nodeName = nodes[this.nextNode++ % nodes.length]!.metadata.name;
        pod = this.store.update(PODS, next);
      }
      if (pod.spec?.nodeName) this.syncPod(pod, now);
    }
    for (const uid of this.sims.keys()) if (!live.has(uid)) this.sims.delete(uid);
  }

  private syncPod(pod: KObject, now: number): void {
    let sim = this.sims.get(pod.metadata.uid!);
    if (!sim) {
      const n = this.ipCounter++;
      const createdMs = this.restoring
        ? Math.min(now, Date.parse(pod.metadata.creationTimestamp ?? '') || now)
        : this.backdateNewPods
          ? now - this.podStartMs()
          : now;
      const registry = this.store.registry;
      const pulled = (pod.spec.containers ?? []).map((c: { image: string }) => `${repoOf(c.image)}@${registry.digestOf(c.image)}`);
      sim = { createdMs, ip: pod.status?.podIP ?? `10.244.${(n >> 8) & 255}.${(n & 255) + 1}`, emitted: new Map(), pulled };
      this.sims.set(pod.metadata.uid!, sim);
    }
    const elapsed = now - sim.createdMs;
    // Nothing happens to this pod before its next milestone, unless someone changed it.
    if (sim.seen === pod && sim.nextAt !== undefined && elapsed < sim.nextAt) return;
    const node = pod.spec.nodeName as string;
    const containers: Array<{ name: string; image: string }> = pod.spec.containers ?? [];
    const views: PodView[] = [];
    let nextAt = Infinity;
    // restartPolicy Never / OnFailure (a Job's pod) runs to completion instead of serving.
    const runsToCompletion = pod.spec.restartPolicy === 'Never' || pod.spec.restartPolicy === 'OnFailure';
    for (const [i, c] of containers.entries()) {
      // The build it pulled decides how it behaves.
      const build = this.store.registry.behaves(sim.pulled[i] ?? c.image);
      const fault = behaviourOf(build).fault;
      const info = {
        namespace: pod.metadata.namespace!,
        name: pod.metadata.name!,
        uid: pod.metadata.uid!,
        node,
        container: c.name,
        image: c.image,
      };
      const timing = { podStartMs: this.podStartMs() };
      const {
        view,
        events,
        nextAt: next,
      } = runsToCompletion
        ? simulateJobPod(completionOf(build), fault === 'missing', timing, info, elapsed)
        : simulatePod(fault, timing, info, elapsed);
      views.push(view);
      nextAt = Math.min(nextAt, next);
      // Scheduled is a pod event, not a container one: only the first container reports it.
      const own = c === containers[0] ? events : events.filter((e) => e.reason !== 'Scheduled');
      const done = this.restoring ? own.length : (sim.emitted.get(c.name) ?? 0);
      for (const e of own.slice(done)) {
        this.events.record(
          pod,
          e.type,
          e.reason,
          e.message,
          e.component,
          sim.createdMs + e.at,
          e.reason === 'Scheduled' ? undefined : `spec.containers{${c.name}}`,
        );
      }
      sim.emitted.set(c.name, own.length);
    }
    // Most ticks change nothing for most pods: skip building and comparing the status then.
    sim.nextAt = nextAt;
    const signature = JSON.stringify(views) + node;
    if (sim.signature === signature && sim.seen === pod) return;
    sim.signature = signature;
    const status = podStatus(pod, views, containers, sim, this.store.peek(NODES, undefined, node), this.podStartMs());
    if (deepEqual(status, pod.status)) {
      sim.seen = pod;
      return;
    }
    // Stored objects are never mutated, so the new version may share everything but status.
    sim.seen = this.store.update(PODS, { ...pod, status }, undefined, true);
  }
}

function stateJson(s: ContainerState, base: number): Record<string, unknown> {
  if ('running' in s) return { running: { startedAt: isoSeconds(base + s.running.startedAt) } };
  if ('waiting' in s) return { waiting: { ...s.waiting } };
  const t = s.terminated;
  return {
    terminated: {
      exitCode: t.exitCode,
      reason: t.reason,
      startedAt: isoSeconds(base + t.startedAt),
      finishedAt: isoSeconds(base + t.finishedAt),
      containerID: 'containerd://sandbox',
    },
  };
}

function podStatus(
  pod: KObject,
  views: PodView[],
  containers: Array<{ name: string; image: string }>,
  sim: PodSim,
  node: KObject | undefined,
  podStartMs: number,
): Record<string, unknown> {
  const base = sim.createdMs;
  const created = isoSeconds(base);
  const allReady = views.length > 0 && views.every((v) => v.ready);
  const running = views.some((v) => v.phase === 'Running');
  const ended = views.length > 0 && views.every((v) => v.phase === 'Succeeded' || v.phase === 'Failed');
  const phase = ended ? (views.every((v) => v.phase === 'Succeeded') ? 'Succeeded' : 'Failed') : running ? 'Running' : 'Pending';
  const hasIp = views.some((v) => v.ipAt !== undefined);
  // Transition times derive from the timeline, so status only changes at milestones.
  const lastChange = isoSeconds(
    base +
      Math.max(
        0,
        ...views.map((v) =>
          'running' in v.state
            ? v.state.running.startedAt
            : 'terminated' in v.state
              ? v.state.terminated.finishedAt
              : v.lastState
                ? v.lastState.terminated.finishedAt
                : 0,
        ),
      ),
  );
  const readyTransition = allReady ? isoSeconds(base + podStartMs) : lastChange;
  const hostIP = (node?.status?.addresses ?? []).find((a: { type: string }) => a.type === 'InternalIP')?.address ?? '10.0.0.1';
  const notReadyNames = containers.filter((_, i) => !views[i]!.ready).map((c) => c.name);
  const notReadyMsg = `containers with unready status: [${notReadyNames.join(' ')}]`;
  const notReady = ended ? { reason: 'PodCompleted' } : { reason: 'ContainersNotReady', message: notReadyMsg };
  return {
    phase,
    conditions: [
      { type: 'PodReadyToStartContainers', status: hasIp ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: created },
      { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: created },
      {
        type: 'Ready',
        status: allReady ? 'True' : 'False',
        lastProbeTime: null,
        lastTransitionTime: readyTransition,
        ...(allReady ? {} : notReady),
      },
      {
        type: 'ContainersReady',
        status: allReady ? 'True' : 'False',
        lastProbeTime: null,
        lastTransitionTime: readyTransition,
        ...(allReady ? {} : notReady),
      },
      { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: created },
    ],
    hostIP,
    hostIPs: [{ ip: hostIP }],
    ...(hasIp ? { podIP: sim.ip, podIPs: [{ ip: sim.ip }] } : {}),
    startTime: created,
    containerStatuses: containers.map((c, i) => {
      const v = views[i]!;
      const pulled = !('waiting' in v.state) || v.restartCount > 0 || v.state.waiting.reason === 'CrashLoopBackOff';
      return {
        name: c.name,
        image: c.image,
        imageID: pulled ? (sim.pulled[i] ?? '') : '',
        ...(pulled ? { containerID: `containerd://${pod.metadata.uid!.replace(/-/g, '')}${i}` } : {}),
        ready: v.ready,
        started: v.started,
        restartCount: v.restartCount,
        state: stateJson(v.state, base),
        lastState: v.lastState ? stateJson(v.lastState, base) : {},
      };
    }),
    qosClass: 'BestEffort',
  };
}
