// A client whose connection to the sandbox can be cut, as a crash cuts a process off: a TCP
// pass-through in front of the sandbox (TLS end to end, its CA and token unchanged). After
// sever(), every call fails at once and no request of the old process can land any more;
// cutNext(n) resets the connection under each of the next n requests (a dropped keep-alive).
import { connect, createServer, type Socket } from 'node:net';
import { kubeFromKubeconfig, type Kube } from '../../src/cluster/kube.js';
import type { Sandbox } from '../../src/sandbox/index.js';

export interface Severable {
  kube: Kube;
  sever(): void;
  cutNext(n: number): void;
}

export async function severableKube(sb: Pick<Sandbox, 'url' | 'port' | 'kubeconfigYaml'>): Promise<Severable> {
  const sockets = new Set<Socket>();
  let cuts = 0;
  const server = createServer((client) => {
    const upstream = connect(sb.port, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => [client, upstream].forEach((x) => x.destroy()));
    }
    client.on('data', (chunk) => {
      if (cuts === 0) return void upstream.write(chunk);
      cuts--;
      client.resetAndDestroy();
      upstream.destroy();
    });
    upstream.pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    kube: kubeFromKubeconfig(sb.kubeconfigYaml().replace(sb.url, `https://127.0.0.1:${port}`)),
    sever() {
      server.close();
      for (const s of sockets) s.destroy();
    },
    cutNext: (n) => void (cuts = n),
  };
}
