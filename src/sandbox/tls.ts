// The sandbox's TLS material: a CA generated once per process and a serving certificate for
// 127.0.0.1 / localhost signed by it, as a cluster's API server has. EC P-256 keys, so a
// test suite that starts dozens of sandboxes pays for one key generation, not dozens.
import { randomBytes } from 'node:crypto';
import selfsigned from 'selfsigned';

export interface SandboxTls {
  /** PEM of the CA that signed `cert`: what a kubeconfig's certificate-authority-data carries. */
  caPem: string;
  cert: string;
  key: string;
}

let pending: Promise<SandboxTls> | undefined;

async function generate(): Promise<SandboxTls> {
  const days = (n: number) => new Date(Date.now() + n * 86_400_000);
  const ca = await selfsigned.generate([{ name: 'commonName', value: 'shipbot-sandbox-ca' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate: days(-1),
    notAfterDate: days(365),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const server = await selfsigned.generate([{ name: 'commonName', value: 'shipbot-sandbox-apiserver' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate: days(-1),
    notAfterDate: days(365),
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  });
  return { caPem: ca.cert, cert: server.cert, key: server.private };
}

/** The process's sandbox CA and serving certificate (generated on first use). */
export function sandboxTls(): Promise<SandboxTls> {
  pending ??= generate().catch((err: unknown) => {
    pending = undefined;
    throw err;
  });
  return pending;
}

/** A fresh bearer token, as a service-account token would be. */
export function newSandboxToken(): string {
  return `sandbox-${randomBytes(24).toString('base64url')}`;
}
