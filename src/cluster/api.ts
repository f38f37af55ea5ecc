// Thin adapter over client-node: the handful of calls the drivers make, each wrapped so a
// failure becomes a ClusterError sentence (errors.ts). No decisions here.
import { scrubSecrets } from '../domain/redact.js';
import type {
  CoreV1Event,
  V1Deployment,
  V1Job,
  V1Node,
  V1Pod,
  V1ReplicaSet,
  V1Service,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import { isNotFound, kubeCall } from './errors.js';
import { jsonPatch, mergePatch, type Kube } from './kube.js';

/** Every write names Shipbot as its field manager, so `managedFields` tell the team who changed what. */
export const FIELD_MANAGER = 'shipbot';

/** A custom resource type as client-node's CustomObjectsApi names it. */
export interface CustomResource {
  group: string;
  version: string;
  plural: string;
}

export interface CustomObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name?: string; namespace?: string; labels?: Record<string, string>; generation?: number; resourceVersion?: string };
  spec?: Record<string, unknown>;
  status?: unknown;
}

export type JsonPatchOp = { op: 'replace' | 'add' | 'remove' | 'test'; path: string; value?: unknown };

export class ClusterApi {
  constructor(readonly kube: Kube) {}

  get server(): string {
    return this.kube.server;
  }

  getDeployment(namespace: string, name: string): Promise<V1Deployment> {
    return kubeCall({ verb: 'get', resource: 'deployments.apps', namespace, name }, this.server, () =>
      this.kube.apps.readNamespacedDeployment({ name, namespace }),
    );
  }

  async findDeployment(namespace: string, name: string): Promise<V1Deployment | undefined> {
    try {
      return await this.getDeployment(namespace, name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  createDeployment(namespace: string, body: V1Deployment): Promise<V1Deployment> {
    return kubeCall({ verb: 'create', resource: 'deployments.apps', namespace, name: body.metadata?.name }, this.server, () =>
      this.kube.apps.createNamespacedDeployment({ namespace, body, fieldManager: FIELD_MANAGER }),
    );
  }

  /** JSON merge patch (RFC 7386): maps merge, lists replace, `null` removes a key. */
  mergeDeployment(namespace: string, name: string, body: object): Promise<V1Deployment> {
    return kubeCall({ verb: 'patch', resource: 'deployments.apps', namespace, name }, this.server, () =>
      this.kube.apps.patchNamespacedDeployment({ name, namespace, body, fieldManager: FIELD_MANAGER }, mergePatch),
    );
  }

  jsonPatchDeployment(namespace: string, name: string, ops: JsonPatchOp[]): Promise<V1Deployment> {
    return kubeCall({ verb: 'patch', resource: 'deployments.apps', namespace, name }, this.server, () =>
      this.kube.apps.patchNamespacedDeployment({ name, namespace, body: ops, fieldManager: FIELD_MANAGER }, jsonPatch),
    );
  }

  async listReplicaSets(namespace: string, labelSelector: string): Promise<V1ReplicaSet[]> {
    const list = await kubeCall({ verb: 'list', resource: 'replicasets.apps', namespace }, this.server, () =>
      this.kube.apps.listNamespacedReplicaSet({ namespace, labelSelector }),
    );
    return list.items;
  }

  /** The HorizontalPodAutoscaler whose scaleTargetRef is Deployment `deployment`, if any. */
  async findHpaFor(namespace: string, deployment: string): Promise<V2HorizontalPodAutoscaler | undefined> {
    const list = await kubeCall({ verb: 'list', resource: 'horizontalpodautoscalers.autoscaling', namespace }, this.server, () =>
      this.kube.autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace }),
    );
    return list.items.find((h) => h.spec?.scaleTargetRef?.kind === 'Deployment' && h.spec.scaleTargetRef.name === deployment);
  }

  mergeHpa(namespace: string, name: string, body: object): Promise<V2HorizontalPodAutoscaler> {
    return kubeCall({ verb: 'patch', resource: 'horizontalpodautoscalers.autoscaling', namespace, name }, this.server, () =>
      this.kube.autoscaling.patchNamespacedHorizontalPodAutoscaler({ name, namespace, body, fieldManager: FIELD_MANAGER }, mergePatch),
    );
  }

  getService(namespace: string, name: string): Promise<V1Service> {
    return kubeCall({ verb: 'get', resource: 'services', namespace, name }, this.server, () =>
      this.kube.core.readNamespacedService({ name, namespace }),
    );
  }

  async findService(namespace: string, name: string): Promise<V1Service | undefined> {
    try {
      return await this.getService(namespace, name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  createService(namespace: string, body: V1Service): Promise<V1Service> {
    return kubeCall({ verb: 'create', resource: 'services', namespace, name: body.metadata?.name }, this.server, () =>
      this.kube.core.createNamespacedService({ namespace, body, fieldManager: FIELD_MANAGER }),
    );
  }

  mergeService(namespace: string, name: string, body: object): Promise<V1Service> {
    return kubeCall({ verb: 'patch', resource: 'services', namespace, name }, this.server, () =>
      this.kube.core.patchNamespacedService({ name, namespace, body, fieldManager: FIELD_MANAGER }, mergePatch),
    );
  }

  async listPods(namespace: string, labelSelector: string): Promise<V1Pod[]> {
    const list = await kubeCall({ verb: 'list', resource: 'pods', namespace }, this.server, () =>
      this.kube.core.listNamespacedPod({ namespace, labelSelector }),
    );
    return list.items;
  }

  async listNodes(): Promise<V1Node[]> {
    const list = await kubeCall({ verb: 'list', resource: 'nodes' }, this.server, () => this.kube.core.listNode());
    return list.items;
  }

  async listEvents(namespace: string): Promise<CoreV1Event[]> {
    const list = await kubeCall({ verb: 'list', resource: 'events', namespace }, this.server, () =>
      this.kube.core.listNamespacedEvent({ namespace }),
    );
    return list.items;
  }

  /** Scrubbed of secrets as it is read: a log tail goes on to the store, Slack, reports and Claude. */
  async readPodLog(namespace: string, name: string, container: string, tailLines: number): Promise<string> {
    const text = await kubeCall({ verb: 'get', resource: 'pods/log', namespace, name }, this.server, () =>
      this.kube.core.readNamespacedPodLog({ name, namespace, container, tailLines }),
    );
    return scrubSecrets(text);
  }

  getJob(namespace: string, name: string): Promise<V1Job> {
    return kubeCall({ verb: 'get', resource: 'jobs.batch', namespace, name }, this.server, () =>
      this.kube.batch.readNamespacedJob({ name, namespace }),
    );
  }

  async findJob(namespace: string, name: string): Promise<V1Job | undefined> {
    try {
      return await this.getJob(namespace, name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  createJob(namespace: string, body: V1Job): Promise<V1Job> {
    return kubeCall({ verb: 'create', resource: 'jobs.batch', namespace, name: body.metadata?.name }, this.server, () =>
      this.kube.batch.createNamespacedJob({ namespace, body, fieldManager: FIELD_MANAGER }),
    );
  }

  /** Deletes a Job and its pods: a Job's default propagation orphans them, so Background is asked for. */
  async deleteJob(namespace: string, name: string): Promise<void> {
    await kubeCall({ verb: 'delete', resource: 'jobs.batch', namespace, name }, this.server, () =>
      this.kube.batch.deleteNamespacedJob({ name, namespace, propagationPolicy: 'Background' }),
    );
  }

  /** A custom resource (an HTTPRoute, a VirtualService) as plain JSON. */
  async getCustom(res: CustomResource, namespace: string, name: string): Promise<CustomObject> {
    return (await kubeCall({ verb: 'get', resource: `${res.plural}.${res.group}`, namespace, name }, this.server, () =>
      this.kube.custom.getNamespacedCustomObject({ ...res, namespace, name }),
    )) as CustomObject;
  }

  async findCustom(res: CustomResource, namespace: string, name: string): Promise<CustomObject | undefined> {
    try {
      return await this.getCustom(res, namespace, name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Custom resources of one type in a namespace, by label selector. */
  async listCustom(res: CustomResource, namespace: string, labelSelector: string): Promise<CustomObject[]> {
    const list = (await kubeCall({ verb: 'list', resource: `${res.plural}.${res.group}`, namespace }, this.server, () =>
      this.kube.custom.listNamespacedCustomObject({ ...res, namespace, labelSelector }),
    )) as { items?: CustomObject[] };
    return list.items ?? [];
  }

  /** JSON merge patch of a custom resource (they take no strategic merge patch). */
  async mergeCustom(res: CustomResource, namespace: string, name: string, body: object): Promise<CustomObject> {
    return (await kubeCall({ verb: 'patch', resource: `${res.plural}.${res.group}`, namespace, name }, this.server, () =>
      this.kube.custom.patchNamespacedCustomObject({ ...res, namespace, name, body, fieldManager: FIELD_MANAGER }, mergePatch),
    )) as CustomObject;
  }

  /** JSON merge patch of a custom resource's status subresource (Argo Rollouts' abort, promote, retry). */
  async mergeCustomStatus(res: CustomResource, namespace: string, name: string, body: object): Promise<CustomObject> {
    return (await kubeCall({ verb: 'patch', resource: `${res.plural}.${res.group}/status`, namespace, name }, this.server, () =>
      this.kube.custom.patchNamespacedCustomObjectStatus({ ...res, namespace, name, body, fieldManager: FIELD_MANAGER }, mergePatch),
    )) as CustomObject;
  }

  /** JSON Patch (RFC 6902) of a custom resource. */
  async jsonPatchCustom(res: CustomResource, namespace: string, name: string, ops: JsonPatchOp[]): Promise<CustomObject> {
    return (await kubeCall({ verb: 'patch', resource: `${res.plural}.${res.group}`, namespace, name }, this.server, () =>
      this.kube.custom.patchNamespacedCustomObject({ ...res, namespace, name, body: ops, fieldManager: FIELD_MANAGER }, jsonPatch),
    )) as CustomObject;
  }

  /** A full update of a custom resource (its resourceVersion guards against a lost write: 409 on a race). */
  async replaceCustom(res: CustomResource, namespace: string, name: string, body: CustomObject): Promise<CustomObject> {
    return (await kubeCall({ verb: 'update', resource: `${res.plural}.${res.group}`, namespace, name }, this.server, () =>
      this.kube.custom.replaceNamespacedCustomObject({ ...res, namespace, name, body, fieldManager: FIELD_MANAGER }),
    )) as CustomObject;
  }

  /** Where the API server proxies HTTP to a Service (works on the sandbox and real clusters). */
  serviceProxyUrl(namespace: string, service: string): string {
    return `${this.server}/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(service)}/proxy`;
  }
}
