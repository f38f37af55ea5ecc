// A stand-in for Flux's kustomize-controller and source-controller, as far as Shipbot meets them,
// behaving as their docs say (fluxcd.io "Kustomizations", "GitRepositories"):
// - a GitRepository (`spec.url`, `spec.ref.branch`) is fetched every `spec.interval`;
// - a Kustomization (`spec.sourceRef`, `spec.path`, `spec.interval`) applies that path with a
//   forced server-side apply on every interval, so drift is corrected at the next interval, and
//   at once when its spec changes or `reconcile.fluxcd.io/requestedAt` is set (`flux reconcile`);
// - `spec.suspend: true` stops it; `spec.prune` deletes objects labelled
//   `kustomize.toolkit.fluxcd.io/name` / `namespace` with its own name that Git no longer names;
// - status: the `Ready` condition and `lastAppliedRevision` (`<branch>@sha1:<sha>`).
import { goDurationSeconds } from '../domain/go-duration.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { type GitApplier, Reconciler } from './git-applier.js';
import type { KObject } from './objects.js';
import { resourceByKind } from './resources.js';
import type { ObjectStore } from './store.js';

const KUSTOMIZATIONS = resourceByKind('Kustomization');
const GIT_REPOSITORIES = resourceByKind('GitRepository');
export const REQUESTED_AT = 'reconcile.fluxcd.io/requestedAt';

/** Flux durations (`10m`, `1m30s`, `1h`): Go durations; none or zero is the fallback. */
export function fluxDurationMs(d: string | undefined, fallbackMs = 600_000): number {
  return (goDurationSeconds(d) ?? 0) * 1000 || fallbackMs;
}

export class FluxStandIn extends Reconciler {
  private readonly last = new Map<string, { at: number; generation: number; requestedAt?: string }>();

  constructor(git: GitApplier, store: ObjectStore, clock: Clock, logger?: Logger) {
    super(git, store, clock, KUSTOMIZATIONS, logger);
  }

  protected async reconcile(ks: KObject): Promise<void> {
    if (ks.spec?.suspend === true) return;
    const key = `${ks.metadata.namespace}/${ks.metadata.name}`;
    const now = this.clock.now();
    const prev = this.last.get(key);
    const requestedAt = ks.metadata.annotations?.[REQUESTED_AT];
    const due =
      !prev ||
      prev.generation !== ks.metadata.generation ||
      prev.requestedAt !== requestedAt ||
      now - prev.at >= fluxDurationMs(ks.spec?.interval);
    if (!due) return;
    this.last.set(key, { at: now, generation: ks.metadata.generation ?? 0, ...(requestedAt ? { requestedAt } : {}) });
    const ref = ks.spec?.sourceRef as { kind?: string; name?: string; namespace?: string } | undefined;
    const source = ref?.name ? this.store.peek(GIT_REPOSITORIES, ref.namespace ?? ks.metadata.namespace, ref.name) : undefined;
    if (!source?.spec?.url) return this.status(ks, false, `GitRepository ${ref?.name ?? '?'} not found`);
    const branch = (source.spec.ref?.branch as string | undefined) ?? 'master';
    const dir =
      String(ks.spec?.path ?? './')
        .replace(/^\.\//, '')
        .replace(/\/$/, '') || '.';
    const ns = (ks.spec?.targetNamespace as string | undefined) ?? 'default';
    const d = await this.git.resolve(source.spec.url, branch, dir);
    // A forced server-side apply of everything in the path: whatever differs is put back.
    for (const o of d.objects) this.git.apply(o, ns);
    if (ks.spec?.prune)
      this.git.prune(
        (o) => o.tool === 'flux' && o.kind === 'Kustomization' && o.name === ks.metadata.name && o.namespace === ks.metadata.namespace,
        d.objects,
        ns,
      );
    this.status(ks, true, `Applied revision: ${branch}@sha1:${d.sha}`, `${branch}@sha1:${d.sha}`);
  }

  private status(ks: KObject, ready: boolean, message: string, revision?: string): void {
    const next = structuredClone(this.store.get(KUSTOMIZATIONS, ks.metadata.namespace, ks.metadata.name!)) as KObject;
    next.status = {
      ...(next.status ?? {}),
      ...(revision ? { lastAppliedRevision: revision } : {}),
      conditions: [
        {
          type: 'Ready',
          status: ready ? 'True' : 'False',
          reason: ready ? 'ReconciliationSucceeded' : 'ArtifactFailed',
          message,
          lastTransitionTime: new Date(this.clock.now()).toISOString(),
        },
      ],
    };
    this.store.update(KUSTOMIZATIONS, next);
  }
}
