// What the reconciler stand-ins (argocd.ts, flux.ts) share: reading a path of a Git repository at
// a commit through the git CLI, comparing it with the live objects, applying it, and pruning.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { type Owner, ownerOf } from '../domain/gitops-owner.js';
import type { ApiServer } from './apiServer.js';
import type { KObject } from './objects.js';
import { type ResourceDef, resourceByKind } from './resources.js';
import type { ObjectStore } from './store.js';

const SERVICES = resourceByKind('Service');
/** The workloads a reconciler applies from Git: image and replicas are the fields it puts back. */
const WORKLOADS: Record<string, ResourceDef> = { Deployment: resourceByKind('Deployment'), Rollout: resourceByKind('Rollout') };
const defOf = (o: KObject): ResourceDef => WORKLOADS[o.kind] ?? SERVICES;

/** A controller of one custom resource kind: each tick reconciles every object of it. */
export abstract class Reconciler {
  constructor(
    protected readonly git: GitApplier,
    protected readonly store: ObjectStore,
    protected readonly clock: Clock,
    private readonly def: ResourceDef,
    private readonly logger?: Logger,
  ) {}

  async tick(): Promise<void> {
    for (const o of this.store.list(this.def)) {
      try {
        await this.reconcile(o);
      } catch (err) {
        this.logger?.warn({ err, object: `${this.def.kind} ${o.metadata.name}` }, 'sandbox: reconciler stand-in failed');
      }
    }
  }

  protected abstract reconcile(o: KObject): Promise<void>;
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
    // A reconciler's git fetch may still be writing into it as the sandbox closes (ENOTEMPTY on a
    // fresh-clone CI run): retry for a moment rather than fail the close.
    if (this.mirror) rmSync(this.mirror, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
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
        if (o && (o.kind in WORKLOADS || o.kind === 'Service')) objects.push(o);
      }
    }
    return { sha, objects };
  }

  /** The objects whose live state differs from Git's, in words. */
  drift(objects: KObject[], ns: string): string[] {
    const out: string[] = [];
    for (const o of objects) {
      const live = this.store.peek(defOf(o), o.metadata.namespace ?? ns, o.metadata.name!);
      if (!live) out.push(`${o.kind} ${o.metadata.name} missing`);
      else if (o.kind in WORKLOADS) {
        const want = (o.spec?.template?.spec?.containers ?? []) as Array<{ name: string; image: string }>;
        const have = (live.spec?.template?.spec?.containers ?? []) as Array<{ name: string; image: string }>;
        if (want.some((c) => have.find((h) => h.name === c.name)?.image !== c.image)) out.push(`${o.kind} ${o.metadata.name} image`);
        if (o.spec?.replicas !== undefined && o.spec.replicas !== live.spec?.replicas) out.push(`${o.kind} ${o.metadata.name} replicas`);
      } else if (JSON.stringify(o.spec?.selector ?? {}) !== JSON.stringify(live.spec?.selector ?? {}))
        out.push(`Service ${o.metadata.name} selector`);
    }
    return out;
  }

  /** Puts Git's fields back on the live object (as a sync's apply does for the fields Git sets). */
  apply(o: KObject, ns: string): void {
    const def = defOf(o);
    const live = this.store.peek(def, o.metadata.namespace ?? ns, o.metadata.name!);
    if (!live) return void this.api.create(def, o.metadata.namespace ?? ns, o);
    const next = structuredClone(live) as KObject;
    if (o.kind in WORKLOADS) {
      const want = (o.spec?.template?.spec?.containers ?? []) as Array<{ name: string; image: string }>;
      for (const c of next.spec.template.spec.containers as Array<{ name: string; image: string }>) {
        const w = want.find((x) => x.name === c.name);
        if (w) c.image = w.image;
      }
      if (o.spec?.replicas !== undefined) next.spec.replicas = o.spec.replicas;
    } else next.spec.selector = o.spec?.selector;
    this.api.replace(def, next.metadata.namespace, next.metadata.name!, next);
  }

  /**
   * The objects the owner tracks (by its tracking rules, domain/gitops-owner.ts: labels, or an
   * Argo CD tracking id that names the object itself) that Git no longer names, go.
   */
  prune(owns: (o: Owner) => boolean, objects: KObject[], ns: string): void {
    const inGit = new Set(objects.map((o) => `${o.kind}/${o.metadata.name}`));
    for (const def of [...Object.values(WORKLOADS), SERVICES]) {
      for (const live of this.store.list(def, ns)) {
        const m = live.metadata;
        const owner = ownerOf({
          kind: def.kind,
          group: def.group,
          namespace: ns,
          name: m.name!,
          labels: m.labels,
          annotations: m.annotations,
          ownerReferences: m.ownerReferences,
        });
        if (!owner || !owns(owner)) continue;
        if (!inGit.has(`${def.kind}/${live.metadata.name}`)) this.api.delete(def, ns, live.metadata.name!);
      }
    }
  }

  /** Healthy as Argo CD's health checks read it: a Deployment's replicas available; a Rollout's own phase Healthy. */
  available(o: KObject, ns: string): boolean {
    const live = this.store.peek(defOf(o), o.metadata.namespace ?? ns, o.metadata.name!);
    if (o.kind === 'Rollout') return live?.status?.phase === 'Healthy';
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
