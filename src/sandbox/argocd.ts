// A stand-in for Argo CD's application controller, as far as Shipbot meets it, behaving as Argo
// CD's docs and source say (argo-cd `controller/appcontroller.go`, `controller/sync.go`,
// docs "Automated Sync Policy", "Resource Tracking"):
// - each Application's `spec.source` (repoURL, targetRevision, path) is resolved to a commit by
//   polling Git every `timeout.reconciliation` (180 s), and at once when the Application changes
//   or carries `argocd.argoproj.io/refresh`;
// - the Deployments, Rollouts and Services in that path are the desired state; the live objects
//   are compared (container images, replicas, Service selector) and `status.sync` says Synced or
//   OutOfSync at that revision, `status.health` Healthy once the Deployments are available and
//   the Rollouts report Healthy (Argo CD's built-in Rollout health check reads their phase);
// - with `syncPolicy.automated` (and not `enabled: false`, 3.1+): a new revision is applied; with
//   `selfHeal` drift is put back, the first time at once, then after 2 s growing ×3 up to 300 s
//   (2.11+ self-heal backoff); with `prune`, top-level objects the app tracks (its
//   `app.kubernetes.io/instance` label, or a tracking id naming the object itself) that Git no
//   longer names are deleted.
// Never kinder than the real thing: it reverts whatever differs, whoever wrote it.
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { type GitApplier, Reconciler } from './git-applier.js';
import type { KObject } from './objects.js';
import { resourceByKind } from './resources.js';
import type { ObjectStore } from './store.js';

const APPLICATIONS = resourceByKind('Application');
const RECONCILIATION_MS = 180_000;
const HEAL_BACKOFF_MS = [0, 2_000, 6_000, 18_000, 54_000, 162_000, 300_000];
export const REFRESH_ANNOTATION = 'argocd.argoproj.io/refresh';

interface Desired {
  sha: string;
  objects: KObject[];
  resolvedAt: number;
  generation: number;
}

export class ArgoCdStandIn extends Reconciler {
  private readonly desired = new Map<string, Desired>();
  private readonly heal = new Map<string, { attempt: number; nextAt: number }>();

  constructor(git: GitApplier, store: ObjectStore, clock: Clock, logger?: Logger) {
    super(git, store, clock, APPLICATIONS, logger);
  }

  protected async reconcile(app: KObject): Promise<void> {
    const key = `${app.metadata.namespace}/${app.metadata.name}`;
    const now = this.clock.now();
    const src = app.spec?.source as { repoURL?: string; targetRevision?: string; path?: string } | undefined;
    if (!src?.repoURL || !src.path) return;
    let d = this.desired.get(key);
    const refresh = app.metadata.annotations?.[REFRESH_ANNOTATION] !== undefined;
    if (!d || refresh || d.generation !== app.metadata.generation || now - d.resolvedAt >= RECONCILIATION_MS) {
      d = {
        ...(await this.git.resolve(src.repoURL, src.targetRevision || 'HEAD', src.path)),
        resolvedAt: now,
        generation: app.metadata.generation ?? 0,
      };
      const changedRevision = this.desired.get(key)?.sha !== d.sha;
      this.desired.set(key, d);
      if (refresh) this.write(app, (a) => delete a.metadata.annotations![REFRESH_ANNOTATION]);
      if (changedRevision) this.heal.delete(key);
    }
    const current = this.store.get(APPLICATIONS, app.metadata.namespace, app.metadata.name!);
    const auto = current.spec?.syncPolicy?.automated as { enabled?: boolean; selfHeal?: boolean; prune?: boolean } | null | undefined;
    const on = !!auto && auto.enabled !== false;
    const ns = (current.spec?.destination?.namespace as string | undefined) ?? 'default';
    let drift = this.git.drift(d.objects, ns);
    const appliedSha = current.status?.operationState?.syncResult?.revision as string | undefined;
    // A new revision is synced by auto-sync; drift on the same revision only with self-heal.
    const newRevision = appliedSha !== d.sha;
    if (on && drift.length && (newRevision || auto?.selfHeal)) {
      const h = this.heal.get(key) ?? { attempt: 0, nextAt: now };
      if (newRevision || now >= h.nextAt) {
        for (const o of d.objects) this.git.apply(o, ns);
        this.heal.set(key, { attempt: h.attempt + 1, nextAt: now + HEAL_BACKOFF_MS[Math.min(h.attempt + 1, HEAL_BACKOFF_MS.length - 1)]! });
        this.write(current, (a) => {
          a.status = { ...(a.status ?? {}), operationState: { phase: 'Succeeded', syncResult: { revision: d.sha } } };
        });
        drift = this.git.drift(d.objects, ns);
      }
    } else if (!drift.length) this.heal.delete(key);
    const name = current.metadata.name!;
    if (on && auto?.prune) this.git.prune((o) => o.tool === 'argocd' && o.application === name, d.objects, ns);
    const healthy = d.objects.filter((o) => o.kind === 'Deployment' || o.kind === 'Rollout').every((o) => this.git.available(o, ns));
    const latest = this.store.get(APPLICATIONS, app.metadata.namespace, app.metadata.name!);
    const status = {
      ...(latest.status ?? {}),
      sync: { status: drift.length ? 'OutOfSync' : 'Synced', revision: d.sha },
      health: { status: healthy ? 'Healthy' : 'Progressing' },
      reconciledAt: new Date(now).toISOString(),
    };
    if (
      JSON.stringify(latest.status?.sync) !== JSON.stringify(status.sync) ||
      JSON.stringify(latest.status?.health) !== JSON.stringify(status.health)
    )
      this.write(latest, (a) => {
        a.status = status;
      });
  }

  private write(app: KObject, change: (a: KObject) => void): void {
    const next = structuredClone(this.store.get(APPLICATIONS, app.metadata.namespace, app.metadata.name!)) as KObject;
    next.metadata.annotations ??= {};
    change(next);
    this.store.update(APPLICATIONS, next);
  }
}
