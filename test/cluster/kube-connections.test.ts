// The API client keeps its connections: client-node 1.x builds a new agent, so a new TLS
// handshake, for every call (kubernetes-client/javascript#2893); one agent per cluster and user
// keeps a few sockets alive instead, as the API server counts them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeFromKubeconfig } from '../../src/cluster/kube.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';

describe('connections to the API server', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await startSandbox();
  });
  afterAll(() => sb?.close());

  it('20 calls in a row share one or two TLS connections, not one each', async () => {
    const kube = kubeFromKubeconfig(sb.kubeconfigYaml());
    const before = sb.connectionsAccepted();
    for (let i = 0; i < 20; i++) await kube.core.listNamespacedPod({ namespace: 'default' });
    // The service proxy (smoke checks) goes through the same agent.
    for (let i = 0; i < 5; i++) await (await kube.fetch(`${sb.url}/api/v1/namespaces/default/pods`)).text();
    const opened = sb.connectionsAccepted() - before;
    expect(opened).toBeGreaterThan(0);
    expect(opened).toBeLessThanOrEqual(2);
  });
});
