// What every strategy driver shares: its context, the preflight of the stable Deployment, and
// finding the pods production serves now. Strategies extend it and add their own steps.
import { driverContext, liveTrackOf, type DriverContext, type DriverDeps } from './common.js';
import { preflightChecks } from './health.js';
import type { PreflightCheck, RolloutState, TrackRef, WorkloadRef } from './types.js';

export abstract class KubeDriver {
  protected readonly ctx: DriverContext;

  constructor(deps: DriverDeps) {
    this.ctx = driverContext(deps);
  }

  preflight(ref: WorkloadRef, version: string): Promise<PreflightCheck[]> {
    return preflightChecks(this.ctx, ref, version, ref.deployment);
  }

  liveTrack(ref: WorkloadRef): Promise<TrackRef> {
    return liveTrackOf(this.ctx, ref);
  }

  async pulledDigest(ref: WorkloadRef, image: string): Promise<string | undefined> {
    const pods = await this.ctx.api.listPods(ref.namespace, '');
    for (const p of pods) {
      const spec = p.spec?.containers.find((c) => c.name === ref.container);
      if (spec?.image !== image) continue;
      const status = p.status?.containerStatuses?.find((c) => c.name === ref.container);
      // containerd and CRI-O report `repo@sha256:<manifest digest>`; a bare image id is not the artifact.
      const digest = /@(sha256:[a-f0-9]{64})$/.exec(status?.imageID ?? '')?.[1];
      if (digest) return digest;
    }
    return undefined;
  }

  /**
   * The new version's running pods and the previous version's, by the image their container runs
   * (every strategy's state names both): the pods whose resource use is compared.
   */
  async podsOf(ref: WorkloadRef, state: RolloutState): Promise<{ candidate: string[]; baseline: string[] }> {
    const pods = (await this.ctx.api.listPods(ref.namespace, '')).filter(
      (p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp,
    );
    const running = (image: string) =>
      pods.filter((p) => p.spec?.containers.find((c) => c.name === ref.container)?.image === image).map((p) => p.metadata!.name!);
    return { candidate: running(state.newImage), baseline: state.previousImage ? running(state.previousImage) : [] };
  }

  liveBaseUrl(ref: WorkloadRef): string {
    return this.ctx.api.serviceProxyUrl(ref.namespace, ref.service);
  }
}
