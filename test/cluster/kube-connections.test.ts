// The API client keeps its connections: client-node 1.x builds a new agent, so a new TLS
// handshake, for every call (kubernetes-client/javascript#2893); one agent per cluster and user
// keeps a few sockets alive instead, as the API server counts them. A kept-alive socket can be
// closed by the server just as a request goes out: a read is then asked once more, a write not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterApi } from '../../src/cluster/api.js';
import { ClusterError } from '../../src/cluster/errors.js';
import { kubeFromKubeconfig } from '../../src/cluster/kube.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { severableKube } from '../helpers/severable.js';

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

  it('a read whose connection is reset is asked once more; a write is not, and twice reset is an error', async () => {
    const proxy = await severableKube(sb);
    const api = new ClusterApi(proxy.kube);
    try {
      proxy.cutNext(1);
      expect(await api.listPods('default', 'app=none')).toEqual([]);
      proxy.cutNext(1);
      const write = await api.mergeService('default', 'none', { metadata: { labels: { a: 'b' } } }).catch((e: unknown) => e);
      expect(write).toBeInstanceOf(ClusterError);
      expect((write as ClusterError).message).toMatch(/ECONNRESET|reset|socket/i);
      proxy.cutNext(2);
      await expect(api.listPods('default', 'app=none')).rejects.toBeInstanceOf(ClusterError);
    } finally {
      proxy.sever();
    }
  });
});
