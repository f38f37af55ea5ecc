// A stand-in for Argo CD's application controller, as far as Shipbot meets it, behaving as Argo
// CD's docs and source say (argo-cd `controller/appcontroller.go`, `controller/sync.go`,
// docs "Automated Sync Policy", "Resource Tracking"):
// - each Application's `spec.source` (repoURL, targetRevision, path) is resolved to a commit by
//   polling Git every `timeout.reconciliation` (180 s), and at once when the Application changes
//   or carries `argocd.argoproj.io/refresh`;
// - the Deployments and Services in that path are the desired state; the live objects are
//   compared (container images, replicas, Service selector) and `status.sync` says Synced or
//   OutOfSync at that revision, `status.health` Healthy once the Deployments are available;
// - with `syncPolicy.automated` (and not `enabled: false`, 3.1+): a new revision is applied; with
//   `selfHeal` drift is put back, the first time at once, then after 2 s growing ×3 up to 300 s
//   (2.11+ self-heal backoff); with `prune`, objects that carry the app's tracking label
//   (`app.kubernetes.io/instance`, label mode) and no owner, but are not in Git, are deleted.
// Never kinder than the real thing: it reverts whatever differs, whoever wrote it.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { ApiServer } from './apiServer.js';
import type { KObject } from './objects.js';
import { resourceByKind } from './resources.js';
import type { ObjectStore } from './store.js';

const APPLICATIONS = resourceByKind('Application');
const DEPLOYMENTS = resourceByKind('Deployment');
const SERVICES = resourceByKind('Service');
const RECONCILIATION_MS = 180_000;
const HEAL_BACKOFF_MS = [0, 2_000, 6_000, 18_000, 54_000, 162_000, 300_000];
export const REFRESH_ANNOTATION = 'argocd.argoproj.io/refresh';
const INSTANCE = 'app.kubernetes.io/instance';

interface Desired {
  sha: string;
  objects: KObject[];
  resolvedAt: number;
  generation: number;
}

export class ArgoCdStandIn {
  private readonly desired = new Map<string, Desired>();
  private readonly heal = new Map<string, { attempt: number; nextAt: number }>();

  constructor(
    private readonly git: GitApplier,
    private readonly store: ObjectStore,
    private readonly clock: Clock,
    private readonly logger?: Logger,
  ) {}

  async tick(): Promise<void> {
    for (const app of this.store.list(APPLICATIONS)) {
      try {
        await this.reconcile(app);
      } catch (err) {
        this.logger?.warn({ err, app: app.metadata.name }, 'sandbox argocd: reconcile failed');
      }
    }
  }

  private async reconcile(app: KObject): Promise<void> {
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
    if (on && auto?.prune) this.git.prune({ [INSTANCE]: current.metadata.name! }, d.objects, ns);
    const healthy = d.objects.filter((o) => o.kind === 'Deployment').every((o) => this.git.available(o, ns));
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

/** What both reconcilers do with Git: read a path at a commit, compare, apply, prune. */
export class GitApplier {
  /** A bare repository the reconcilers fetch into, made on first use (most sandboxes never need one). */
  private mirror = '';

  constructor(
    private readonly api: ApiServer,
    private readonly store: ObjectStore,
    private readonly gitEnv: NodeJS.ProcessEnv,
  ) {}

  close(): void {
    if (this.mirror) rmSync(this.mirror, { recursive: true, force: true });
  }

  /** The objects in Git at `revision`/`dir`, and the commit. */
  async resolve(url: string, revision: string, dir: string): Promise<{ sha: string; objects: KObject[] }> {
    if (!this.mirror) {
      const dir = mkdtempSync(path.join(tmpdir(), 'sandbox-gitops-'));
      await git(['init', '--quiet', '--bare', dir], this.gitEnv);
      this.mirror = dir;
    }
    const ref = revision === 'HEAD' ? 'HEAD' : `refs/heads/${revision}`;
    await git(['-C', this.mirror, 'fetch', '--quiet', '--force', '--', url, `+${ref}:refs/sandbox/target`], this.gitEnv);
    const sha = (await git(['-C', this.mirror, 'rev-parse', 'refs/sandbox/target'], this.gitEnv)).trim();
    const files = (await git(['-C', this.mirror, 'ls-tree', '-r', '--name-only', sha, '--', dir], this.gitEnv))
      .split('\n')
      .filter((f) => /\.ya?ml$/.test(f));
    const objects: KObject[] = [];
    for (const f of files) {
      const text = await git(['-C', this.mirror, 'show', `${sha}:${f}`], this.gitEnv);
      for (const doc of parseAllDocuments(text)) {
        const o = doc.toJS() as KObject | null;
        if (o?.kind === 'Deployment' || o?.kind === 'Service') objects.push(o);
      }
    }
    return { sha, objects };
  }

  /** The objects whose live state differs from Git's, in words. */
  drift(objects: KObject[], ns: string): string[] {
    const out: string[] = [];
    for (const o of objects) {
      const def = o.kind === 'Deployment' ? DEPLOYMENTS : SERVICES;
      const live = this.store.peek(def, o.metadata.namespace ?? ns, o.metadata.name!);
      if (!live) out.push(`${o.kind} ${o.metadata.name} missing`);
      else if (o.kind === 'Deployment') {
        const want = (o.spec?.template?.spec?.containers ?? []) as Array<{ name: string; image: string }>;
        const have = (live.spec?.template?.spec?.containers ?? []) as Array<{ name: string; image: string }>;
        if (want.some((c) => have.find((h) => h.name === c.name)?.image !== c.image)) out.push(`Deployment ${o.metadata.name} image`);
        if (o.spec?.replicas !== undefined && o.spec.replicas !== live.spec?.replicas) out.push(`Deployment ${o.metadata.name} replicas`);
      } else if (JSON.stringify(o.spec?.selector ?? {}) !== JSON.stringify(live.spec?.selector ?? {}))
        out.push(`Service ${o.metadata.name} selector`);
    }
    return out;
  }

  /** Puts Git's fields back on the live object (as a sync's apply does for the fields Git sets). */
  apply(o: KObject, ns: string): void {
    const def = o.kind === 'Deployment' ? DEPLOYMENTS : SERVICES;
    const live = this.store.peek(def, o.metadata.namespace ?? ns, o.metadata.name!);
    if (!live) return void this.api.create(def, o.metadata.namespace ?? ns, o);
    const next = structuredClone(live) as KObject;
    if (o.kind === 'Deployment') {
      const want = (o.spec?.template?.spec?.containers ?? []) as Array<{ name: string; image: string }>;
      for (const c of next.spec.template.spec.containers as Array<{ name: string; image: string }>) {
        const w = want.find((x) => x.name === c.name);
        if (w) c.image = w.image;
      }
      if (o.spec?.replicas !== undefined) next.spec.replicas = o.spec.replicas;
    } else next.spec.selector = o.spec?.selector;
    this.api.replace(def, next.metadata.namespace, next.metadata.name!, next);
  }

  /** The owner's own labelled, top-level objects that Git no longer names go. */
  prune(labels: Record<string, string>, objects: KObject[], ns: string): void {
    const inGit = new Set(objects.map((o) => `${o.kind}/${o.metadata.name}`));
    const ours = (o: KObject) => Object.entries(labels).every(([k, v]) => o.metadata.labels?.[k] === v);
    for (const def of [DEPLOYMENTS, SERVICES]) {
      for (const live of this.store.list(def, ns)) {
        if (!ours(live) || live.metadata.ownerReferences?.length) continue;
        if (!inGit.has(`${def.kind}/${live.metadata.name}`)) this.api.delete(def, ns, live.metadata.name!);
      }
    }
  }

  available(o: KObject, ns: string): boolean {
    const live = this.store.peek(DEPLOYMENTS, o.metadata.namespace ?? ns, o.metadata.name!);
    return !!live && (live.status?.availableReplicas ?? 0) >= (live.spec?.replicas ?? 1);
  }
}

function git(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', args, { env, timeout: 30_000, maxBuffer: 8 * 1024 * 1024 }, (err, stdout, stderr) =>
      err ? reject(new Error(`git: ${(stderr || err.message).trim()}`)) : resolve(stdout),
    );
  });
}
