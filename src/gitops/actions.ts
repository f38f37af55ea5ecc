// What the runner's GitOps steps do to the outside world, behind one small interface: the owner
// (through the cluster it lives in) and the Git repository. Built once in runner/index.ts.
import { ClusterApi } from '../cluster/api.js';
import type { Clusters } from '../cluster/clusters.js';
import {
  ownerRefOf,
  ownerStatus,
  type OwnerSnapshot,
  type OwnerStatus,
  resumeOwner,
  snapshotOwner,
  suspendOwner,
} from '../cluster/owner-control.js';
import type { WorkloadRef } from '../cluster/types.js';
import { type CommitResult, commitImage, type GitCredentials } from './git.js';

export interface GitopsActions {
  snapshot(ref: WorkloadRef): Promise<OwnerSnapshot>;
  suspend(ref: WorkloadRef): Promise<void>;
  resume(ref: WorkloadRef, s: OwnerSnapshot): Promise<void>;
  status(ref: WorkloadRef): Promise<OwnerStatus>;
  /** Commits `image` to the environment's Git file. */
  commit(ref: WorkloadRef, image: string, message: string): Promise<CommitResult>;
}

export function gitopsActions(clusters: Clusters, creds: GitCredentials, gitEnv?: NodeJS.ProcessEnv): GitopsActions {
  const api = (ref: WorkloadRef) => new ClusterApi(clusters.kube(ref.context));
  const owner = (ref: WorkloadRef) => {
    if (!ref.gitops) throw new Error(`${ref.serviceName} has no gitops configuration for this environment`);
    return ownerRefOf(ref.gitops);
  };
  return {
    snapshot: (ref) => snapshotOwner(api(ref), owner(ref)),
    suspend: (ref) => suspendOwner(api(ref), owner(ref)),
    resume: (ref, s) => resumeOwner(api(ref), owner(ref), s),
    status: (ref) => ownerStatus(api(ref), owner(ref)),
    commit: (ref, image, message) => commitImage(ref.gitops!.git, ref.imageRepo, image, message, creds, gitEnv ? { baseEnv: gitEnv } : {}),
  };
}
