// Kubernetes failures become sentences a person can act on. Driven over real HTTP: a tiny
// API-server double answers with Kubernetes `Status` bodies; client-node makes the calls.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterApi } from '../../src/cluster/api.js';
import { ClusterError } from '../../src/cluster/errors.js';
import { plainKube } from '../helpers/sandbox-access.js';

let server: Server;
let url: string;
const seen: Array<{ method: string; path: string; contentType?: string }> = [];

function status(code: number, reason: string, message: string) {
  return JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });
}

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ method: req.method!, path: req.url!, contentType: req.headers['content-type'] });
    const reply = (code: number, body: string) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(body);
    };
    const u = req.url ?? '';
    if (u.includes('/deployments/forbidden')) {
      return reply(
        403,
        status(
          403,
          'Forbidden',
          'deployments.apps "forbidden" is forbidden: User "system:serviceaccount:shipbot:shipbot" cannot patch resource "deployments" in API group "apps" in the namespace "production"',
        ),
      );
    }
    if (u.includes('/deployments/conflict'))
      return reply(
        409,
        status(409, 'Conflict', 'the object has been modified; please apply your changes to the latest version and try again'),
      );
    if (u.includes('/deployments/broken')) return reply(503, status(503, 'ServiceUnavailable', 'etcdserver: leader changed'));
    if (u.includes('/services/')) return reply(401, status(401, 'Unauthorized', 'Unauthorized'));
    return reply(404, status(404, 'NotFound', 'deployments.apps "nope" not found'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

async function failure(p: Promise<unknown>): Promise<ClusterError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ClusterError);
  return err as ClusterError;
}

describe('Kubernetes errors in words', () => {
  const api = () => new ClusterApi(plainKube(url));

  it('403: names the verb, the resource and where the RBAC lives', async () => {
    const err = await failure(api().mergeDeployment('production', 'forbidden', { spec: { replicas: 1 } }));
    expect(err.message).toBe(
      "403 on patch deployments.apps in production: Shipbot's service account needs the 'patch' verb on deployments.apps — see deploy/rbac.yaml.",
    );
    expect(err.status).toBe(403);
    // A merge patch was sent as one (client-node defaults to JSON Patch otherwise).
    expect(seen.find((s) => s.path.includes('forbidden'))?.contentType).toBe('application/merge-patch+json');
  });

  it('404: says what is missing and where to fix it', async () => {
    const err = await failure(api().getDeployment('production', 'nope'));
    expect(err.message).toMatch(
      /^deployment 'nope' was not found in production \(deployments.apps "nope" not found\): check environments.<env> in data\/shipbot.yml/,
    );
  });

  it('401, 409 and 5xx say what to do next', async () => {
    expect((await failure(api().getService('production', 'checkout'))).message).toMatch(
      /^401 on get services in production: .*refresh the token/,
    );
    expect((await failure(api().jsonPatchDeployment('production', 'conflict', []))).message).toMatch(
      /changed by someone else .* run the step again/,
    );
    expect((await failure(api().getDeployment('production', 'broken'))).message).toMatch(
      /failed with 503 .*etcdserver: leader changed.*retry in a moment/,
    );
  });

  it('an unreachable API server: names the address and the next step', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const err = await failure(new ClusterApi(plainKube(`http://127.0.0.1:${port}`)).listNodes());
    expect(err.status).toBeUndefined();
    expect(err.message).toMatch(
      new RegExp(
        `^Cannot reach the Kubernetes API at http://127.0.0.1:${port} \\(ECONNREFUSED\\) while trying to list nodes: check that the cluster is up`,
      ),
    );
  });
});
