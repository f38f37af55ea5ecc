// The Deployment controller: owns ReplicaSets named `<deployment>-<pod-template-hash>`, rolls
// from old to new within maxSurge / maxUnavailable, keeps revisions (a rollback re-uses the old
// ReplicaSet and bumps its revision) and writes status with Available / Progressing conditions.
import type { Clock } from '../clock.js';
import { admit } from './admission.js';
import type { EventRecorder } from './events.js';
import { clone, controllerOf, deepEqual, fnv32a, isoSeconds, safeEncode, stableStringify, type KObject } from './objects.js';
import { resourceByKind } from './resources.js';
import { newReplicaSetTarget, oldReplicaSetTargets, surgeAndUnavailable, type RsCounts } from './rolloutMath.js';
import type { ObjectStore } from './store.js';

export const REVISION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
export const HASH_LABEL = 'pod-template-hash';

const DEPLOYMENTS = resourceByKind('Deployment');
const REPLICASETS = resourceByKind('ReplicaSet');

/** The template without the pod-template-hash label, as the controller compares templates. */
export function templateWithoutHash(template: KObject['spec']): unknown {
  const t = clone(template ?? {});
  if (t.metadata?.labels) {
    delete t.metadata.labels[HASH_LABEL];
    if (Object.keys(t.metadata.labels).length === 0) delete t.metadata.labels;
  }
  return t;
}

export function podTemplateHash(template: unknown): string {
  return safeEncode(String(fnv32a(stableStringify(templateWithoutHash(template)))));
}

/** Template keys per stored object: stored objects are never mutated, so the key never goes stale. */
const templateKeys = new WeakMap<object, string>();
function templateKey(o: KObject): string {
  let k = templateKeys.get(o);
  if (k === undefined) templateKeys.set(o, (k = stableStringify(templateWithoutHash(o.spec?.template))));
  return k;
}

export const revisionOf = (o: KObject) => Number(o.metadata.annotations?.[REVISION] ?? 0) || 0;

type Condition = { type: string; status: string; reason: string; message: string; lastUpdateTime: string; lastTransitionTime: string };

export class DeploymentController {
  /** Virtual ms of the last observed progress, per Deployment uid (for progressDeadlineSeconds). */
  private readonly lastProgress = new Map<string, number>();

  constructor(
    private readonly store: ObjectStore,
    private readonly events: EventRecorder,
    private readonly clock: Clock,
  ) {}

  /** ReplicaSets by controller uid, rebuilt once per syncAll. */
  private byOwner = new Map<string, KObject[]>();

  syncAll(): void {
    this.indexReplicaSets();
    const live = new Set<string>();
    for (const d of this.store.list(DEPLOYMENTS)) {
      live.add(d.metadata.uid!);
      this.sync(d);
    }
    for (const uid of this.lastProgress.keys()) if (!live.has(uid)) this.lastProgress.delete(uid);
  }

  private indexReplicaSets(): void {
    this.byOwner = new Map();
    for (const rs of this.store.list(REPLICASETS)) {
      const uid = controllerOf(rs)?.uid;
      if (!uid) continue;
      const list = this.byOwner.get(uid) ?? [];
      list.push(rs);
      this.byOwner.set(uid, list);
    }
  }

  /** Current versions of the ReplicaSets the Deployment controls. */
  private owned(d: KObject): KObject[] {
    const out: KObject[] = [];
    for (const rs of this.byOwner.get(d.metadata.uid!) ?? []) {
      const cur = this.store.peek(REPLICASETS, rs.metadata.namespace, rs.metadata.name!);
      if (cur && cur.metadata.uid === rs.metadata.uid) out.push(cur);
    }
    return out;
  }

  sync(dIn: KObject): void {
    let d = dIn;
    const all = this.owned(d);
    const wanted = templateKey(d);
    let newRs = all.find((rs) => templateKey(rs) === wanted);
    const old = all
      .filter((rs) => rs !== newRs)
      .sort((a, b) => revisionOf(a) - revisionOf(b) || (a.metadata.creationTimestamp! < b.metadata.creationTimestamp! ? -1 : 1));
    const maxOld = old.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);
    const replicas: number = d.spec.replicas ?? 1;
    let progressed = false;

    if (!d.spec.paused) {
      if (!newRs) {
        newRs = this.createReplicaSet(d, maxOld + 1);
        progressed = true;
      } else if (revisionOf(newRs) <= maxOld) {
        // Rollback: the old ReplicaSet becomes the newest revision again.
        const next = clone(newRs);
        const history = [next.metadata.annotations?.[REVISION_HISTORY], String(revisionOf(newRs))].filter(Boolean).join(',');
        next.metadata.annotations = { ...next.metadata.annotations, [REVISION]: String(maxOld + 1), [REVISION_HISTORY]: history };
        newRs = this.store.update(REPLICASETS, next);
      }
      const { surge, unavailable } = surgeAndUnavailable(d.spec.strategy?.rollingUpdate, replicas);
      const counts = (rs: KObject): RsCounts => ({
        name: rs.metadata.name!,
        desired: rs.spec.replicas ?? 0,
        available: rs.status?.availableReplicas ?? 0,
      });
      if (d.spec.strategy?.type === 'Recreate') {
        for (const rs of old) if ((rs.spec.replicas ?? 0) > 0) progressed = this.scale(d, rs, 0, replicas, surge) || progressed;
        const oldPodsLeft = old.some((rs) => (rs.status?.replicas ?? 0) > 0 || (rs.spec.replicas ?? 0) > 0);
        if (!oldPodsLeft) progressed = this.scale(d, newRs, replicas, replicas, surge) || progressed;
      } else {
        const target = newReplicaSetTarget(replicas, surge, counts(newRs), [counts(newRs), ...old.map(counts)]);
        progressed = this.scale(d, newRs, target, replicas, surge) || progressed;
        newRs = this.store.peek(REPLICASETS, d.metadata.namespace, newRs.metadata.name!)!;
        const targets = oldReplicaSetTargets(replicas, unavailable, counts(newRs), old.map(counts));
        for (const rs of old) progressed = this.scale(d, rs, targets.get(rs.metadata.name!)!, replicas, surge) || progressed;
      }
      this.cleanupHistory(d, old);
    } else if (newRs && old.every((rs) => (rs.spec.replicas ?? 0) === 0) && newRs.spec.replicas !== replicas) {
      // Paused: no rollout, but plain scaling still applies.
      const { surge } = surgeAndUnavailable(d.spec.strategy?.rollingUpdate, replicas);
      this.scale(d, newRs, replicas, replicas, surge);
    }
    d = this.store.peek(DEPLOYMENTS, d.metadata.namespace, d.metadata.name!) ?? d;
    this.writeStatus(d, newRs ? this.store.peek(REPLICASETS, d.metadata.namespace, newRs.metadata.name!) : undefined, progressed);
  }

  private createReplicaSet(d: KObject, revision: number): KObject {
    const hash = podTemplateHash(d.spec.template);
    const template = clone(d.spec.template);
    template.metadata ??= {};
    template.metadata.labels = { ...template.metadata.labels, [HASH_LABEL]: hash };
    const selector = clone(d.spec.selector);
    selector.matchLabels = { ...selector.matchLabels, [HASH_LABEL]: hash };
    const rs = admit(REPLICASETS, {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata.name}-${hash}`,
        namespace: d.metadata.namespace,
        labels: { ...template.metadata.labels },
        annotations: { [REVISION]: String(revision), [DESIRED_REPLICAS]: String(d.spec.replicas ?? 1) },
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            name: d.metadata.name!,
            uid: d.metadata.uid!,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: { replicas: 0, minReadySeconds: d.spec.minReadySeconds ?? 0, selector, template },
    });
    rs.status = { replicas: 0 };
    const created = this.store.create(REPLICASETS, rs);
    this.byOwner.set(d.metadata.uid!, [...(this.byOwner.get(d.metadata.uid!) ?? []), created]);
    return created;
  }

  /** Sets a ReplicaSet's size and records ScalingReplicaSet; true when it changed. */
  private scale(d: KObject, rs: KObject, to: number, replicas: number, surge: number): boolean {
    const from = rs.spec.replicas ?? 0;
    const a = rs.metadata.annotations ?? {};
    if (from === to && a[DESIRED_REPLICAS] === String(replicas) && a[MAX_REPLICAS] === String(replicas + surge)) return false;
    const next = clone(rs);
    next.spec.replicas = to;
    next.metadata.annotations = {
      ...next.metadata.annotations,
      [DESIRED_REPLICAS]: String(replicas),
      [MAX_REPLICAS]: String(replicas + surge),
    };
    this.store.update(REPLICASETS, next);
    if (from === to) return false;
    this.events.record(
      d,
      'Normal',
      'ScalingReplicaSet',
      `Scaled ${to > from ? 'up' : 'down'} replica set ${rs.metadata.name} from ${from} to ${to}`,
      'deployment-controller',
    );
    return true;
  }

  /** Keeps at most revisionHistoryLimit old, empty ReplicaSets. */
  private cleanupHistory(d: KObject, old: KObject[]): void {
    const limit: number = d.spec.revisionHistoryLimit ?? 10;
    const empty = old.filter((rs) => (rs.spec.replicas ?? 0) === 0 && (rs.status?.replicas ?? 0) === 0);
    for (const rs of empty.slice(0, Math.max(0, empty.length - limit))) {
      if (this.store.peek(REPLICASETS, rs.metadata.namespace, rs.metadata.name!))
        this.store.delete(REPLICASETS, rs.metadata.namespace, rs.metadata.name!);
    }
  }

  private writeStatus(d: KObject, newRs: KObject | undefined, scaled: boolean): void {
    const all = this.owned(d);
    const sum = (f: (rs: KObject) => number) => all.reduce((s, rs) => s + f(rs), 0);
    const replicas: number = d.spec.replicas ?? 1;
    const prev = d.status ?? {};
    const status: Record<string, unknown> = {
      observedGeneration: d.metadata.generation,
      replicas: sum((rs) => rs.status?.replicas ?? 0),
      updatedReplicas: newRs?.status?.replicas ?? 0,
      readyReplicas: sum((rs) => rs.status?.readyReplicas ?? 0),
      availableReplicas: sum((rs) => rs.status?.availableReplicas ?? 0),
      unavailableReplicas: Math.max(0, sum((rs) => rs.spec.replicas ?? 0) - sum((rs) => rs.status?.availableReplicas ?? 0)),
    };
    for (const k of ['readyReplicas', 'availableReplicas', 'unavailableReplicas', 'updatedReplicas', 'replicas'] as const)
      if (status[k] === 0) delete status[k];
    const n = (k: string) => (status[k] as number | undefined) ?? 0;
    const p = (k: string) => (prev[k] as number | undefined) ?? 0;

    const now = this.clock.now();
    const uid = d.metadata.uid!;
    const conds: Condition[] = clone(prev.conditions ?? []);
    const setCond = (c: Omit<Condition, 'lastUpdateTime' | 'lastTransitionTime'>, touch: boolean) => {
      const at = isoSeconds(now);
      const i = conds.findIndex((x) => x.type === c.type);
      const cur = conds[i];
      if (cur && cur.status === c.status && cur.reason === c.reason && cur.message === c.message && !touch) return;
      const next: Condition = {
        ...c,
        lastUpdateTime: at,
        lastTransitionTime: cur && cur.status === c.status ? cur.lastTransitionTime : at,
      };
      if (i >= 0) conds[i] = next;
      else conds.push(next);
    };

    const { unavailable } = surgeAndUnavailable(d.spec.strategy?.rollingUpdate, replicas);
    if (n('availableReplicas') >= replicas - unavailable)
      setCond(
        { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' },
        false,
      );
    else
      setCond(
        {
          type: 'Available',
          status: 'False',
          reason: 'MinimumReplicasUnavailable',
          message: 'Deployment does not have minimum availability.',
        },
        false,
      );

    const rsName = newRs?.metadata.name ?? d.metadata.name;
    const prevProgressing = conds.find((c) => c.type === 'Progressing');
    const complete = !!newRs && n('updatedReplicas') === replicas && n('availableReplicas') === replicas && n('replicas') === replicas;
    const progressed =
      scaled ||
      n('updatedReplicas') > p('updatedReplicas') ||
      n('readyReplicas') > p('readyReplicas') ||
      n('availableReplicas') > p('availableReplicas') ||
      n('replicas') < p('replicas');
    if (!this.lastProgress.has(uid)) this.lastProgress.set(uid, prevProgressing ? Date.parse(prevProgressing.lastUpdateTime) : now);

    if (d.spec.paused) {
      setCond({ type: 'Progressing', status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' }, false);
      this.lastProgress.set(uid, now);
    } else if (prevProgressing?.reason === 'DeploymentPaused') {
      setCond({ type: 'Progressing', status: 'Unknown', reason: 'DeploymentResumed', message: 'Deployment is resumed' }, true);
      this.lastProgress.set(uid, now);
    } else if (complete) {
      setCond(
        {
          type: 'Progressing',
          status: 'True',
          reason: 'NewReplicaSetAvailable',
          message: `ReplicaSet "${rsName}" has successfully progressed.`,
        },
        false,
      );
      this.lastProgress.set(uid, now);
    } else if (progressed || !prevProgressing) {
      const created =
        !prevProgressing ||
        (scaled && (newRs?.status?.replicas ?? 0) === 0 && p('updatedReplicas') === 0 && prevProgressing.reason !== 'ReplicaSetUpdated');
      setCond(
        created
          ? { type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated', message: `Created new replica set "${rsName}"` }
          : { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${rsName}" is progressing.` },
        true,
      );
      this.lastProgress.set(uid, now);
    } else if (
      prevProgressing.reason !== 'NewReplicaSetAvailable' &&
      now - this.lastProgress.get(uid)! > (d.spec.progressDeadlineSeconds ?? 600) * 1000
    ) {
      setCond(
        {
          type: 'Progressing',
          status: 'False',
          reason: 'ProgressDeadlineExceeded',
          message: `ReplicaSet "${rsName}" has timed out progressing.`,
        },
        false,
      );
    } else if (prevProgressing.reason === 'NewReplicaSetAvailable' && !complete && (scaled || n('updatedReplicas') < replicas)) {
      setCond(
        { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${rsName}" is progressing.` },
        true,
      );
      this.lastProgress.set(uid, now);
    }
    // Conditions in the order the API server shows them.
    conds.sort((a, b) => (a.type === 'Available' ? -1 : b.type === 'Available' ? 1 : 0));
    status.conditions = conds;

    const annotations = { ...d.metadata.annotations };
    if (newRs) annotations[REVISION] = String(revisionOf(newRs));
    if (deepEqual(status, prev) && deepEqual(annotations, d.metadata.annotations ?? {})) return;
    this.store.update(DEPLOYMENTS, { ...d, metadata: { ...d.metadata, annotations }, status }, undefined, true);
  }
}
