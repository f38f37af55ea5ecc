// deploy/rbac.yaml grants exactly what src/cluster calls: nothing missing, nothing extra
// beyond read verbs, and the node check needs a cluster-wide binding.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { REQUIRED_PERMISSIONS } from '../../src/cluster/permissions.js';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}
interface Doc {
  kind: string;
  metadata: { name: string; namespace?: string };
  rules?: Rule[];
  roleRef?: { kind: string; name: string };
  subjects?: Array<{ kind: string; name: string; namespace: string }>;
}

const docs = ['deploy/rbac.yaml', 'deploy/gitops-rbac.yaml'].flatMap((f) =>
  parseAllDocuments(readFileSync(f, 'utf8')).map((d) => d.toJS() as Doc),
);
const roles = new Map(docs.filter((d) => d.kind === 'ClusterRole').map((d) => [d.metadata.name, d.rules ?? []]));

function grants(rules: Rule[], group: string, resource: string, verb: string): boolean {
  return rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));
}

describe('deploy/rbac.yaml', () => {
  it('grants every call the executor makes', () => {
    const namespaced = docs.filter((d) => d.kind === 'RoleBinding').map((d) => roles.get(d.roleRef!.name) ?? []);
    const clusterWide = docs.filter((d) => d.kind === 'ClusterRoleBinding').map((d) => roles.get(d.roleRef!.name) ?? []);
    for (const p of REQUIRED_PERMISSIONS) {
      const pool = p.clusterScoped ? clusterWide : namespaced;
      expect(
        pool.some((rules) => grants(rules, p.group, p.resource, p.verb)),
        `${p.verb} ${p.resource}`,
      ).toBe(true);
    }
  });

  it('binds only the shipbot service account and never grants wildcards, nor update beyond Rollouts, nor delete beyond migration Jobs', () => {
    for (const d of docs.filter((x) => x.kind.endsWith('Binding'))) {
      expect(d.subjects).toEqual([{ kind: 'ServiceAccount', name: 'shipbot', namespace: 'shipbot' }]);
    }
    for (const rules of roles.values()) {
      for (const r of rules) {
        // The one delete: a failed migration Job that a retry replaces (its own release's name).
        const jobs = r.apiGroups.includes('batch') && r.resources.every((x: string) => x === 'jobs');
        // The one update: `set image` on a Rollout is a full update, as the Argo Rollouts plugin does it.
        const rollouts = r.apiGroups.includes('argoproj.io') && r.resources.every((x: string) => x === 'rollouts');
        const allowed = jobs ? ['get', 'create', 'delete'] : rollouts ? ['get', 'update', 'patch'] : ['get', 'list', 'create', 'patch'];
        for (const v of r.verbs) expect(allowed).toContain(v);
        expect(r.resources).not.toContain('*');
        expect(r.apiGroups).not.toContain('*');
      }
    }
  });

  it('binds the deployer role in each namespace of the shipped config', () => {
    const bound = docs.filter((d) => d.kind === 'RoleBinding' && d.roleRef?.name === 'shipbot-deployer').map((d) => d.metadata.namespace);
    expect(bound.sort()).toEqual(['production', 'staging']);
  });
});

describe('deploy/ manifests', () => {
  const all = ['namespace.yaml', 'serviceaccount.yaml', 'rbac.yaml', 'deployment.yaml', 'networkpolicy.yaml'].flatMap((f) =>
    parseAllDocuments(readFileSync(`deploy/${f}`, 'utf8')).map(
      // biome-ignore lint/suspicious/noExplicitAny: manifests are read as YAML; the assertions below check their shape
      (d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string }; spec?: any },
    ),
  );

  it('kustomization lists every manifest', () => {
    const k = parseAllDocuments(readFileSync('deploy/kustomization.yaml', 'utf8'))[0]!.toJS() as { resources: string[] };
    expect(k.resources.sort()).toEqual(['deployment.yaml', 'namespace.yaml', 'networkpolicy.yaml', 'rbac.yaml', 'serviceaccount.yaml']);
  });

  it('probes /healthz and /readyz, mounts /tmp, and runs the image the Dockerfile builds as non-root', () => {
    const dep = all.find((d) => d.kind === 'Deployment')!;
    const c = dep.spec.template.spec.containers[0];
    expect(c.livenessProbe.httpGet).toMatchObject({ path: '/healthz', port: 'http' });
    expect(c.readinessProbe.httpGet).toMatchObject({ path: '/readyz', port: 'http' });
    expect(c.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
    expect(dep.spec.template.spec.volumes).toContainEqual({ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } });
    expect(c.resources.requests).toBeDefined();
    expect(c.resources.limits.memory).toBeDefined();
    expect(dep.spec.strategy.type).toBe('Recreate');
    expect(dep.spec.template.metadata.annotations['prometheus.io/path']).toBe('/metrics');
    const docker = readFileSync('Dockerfile', 'utf8');
    expect(docker).toMatch(/^USER node$/m);
    expect(docker).toMatch(/^CMD \["node", "dist\/cli.js", "start"\]$/m);
    expect(docker).not.toMatch(/^(RUN|CMD|ENTRYPOINT).*tsx/m);
    const np = all.find((d) => d.kind === 'NetworkPolicy')!;
    expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
  });

  it('/metrics on its own port, admitted from the monitoring namespace only; seccomp RuntimeDefault; the image pinned by digest', () => {
    const dep = all.find((d) => d.kind === 'Deployment')!;
    const pod = dep.spec.template.spec;
    const c = pod.containers[0];
    expect(pod.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    expect(c.image).toMatch(/@sha256:[a-f0-9]{64}$/);
    const metricsPort = Number(c.env.find((e: { name: string }) => e.name === 'METRICS_PORT').value);
    expect(c.ports).toContainEqual({ name: 'metrics', containerPort: metricsPort });
    expect(dep.spec.template.metadata.annotations['prometheus.io/port']).toBe(String(metricsPort));
    const np = all.find((d) => d.kind === 'NetworkPolicy')!;
    const rules = np.spec.ingress as Array<{
      from?: Array<{ namespaceSelector?: { matchLabels: Record<string, string> } }>;
      ports: Array<{ port: number }>;
    }>;
    // Every ingress rule names where it admits from; the metrics port only from monitoring.
    for (const r of rules) expect(r.from?.length).toBeGreaterThan(0);
    const toMetrics = rules.filter((r) => r.ports.some((p) => p.port === metricsPort));
    expect(toMetrics.flatMap((r) => r.from!.map((f) => f.namespaceSelector?.matchLabels['kubernetes.io/metadata.name']))).toEqual([
      'monitoring',
    ]);
    expect(rules.filter((r) => r.ports.some((p) => p.port === 3000)).every((r) => !r.ports.some((p) => p.port === metricsPort))).toBe(true);
  });

  it('runs Shipbot as the bound service account, one replica, non-root, with its config and secrets', () => {
    const sa = all.find((d) => d.kind === 'ServiceAccount')!;
    expect(sa.metadata).toEqual({ name: 'shipbot', namespace: 'shipbot' });
    const dep = all.find((d) => d.kind === 'Deployment')!;
    const pod = dep.spec.template.spec;
    expect(pod.serviceAccountName).toBe('shipbot');
    expect(dep.spec.replicas).toBe(1);
    expect(dep.spec.strategy.type).toBe('Recreate');
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    const c = pod.containers[0];
    expect(c.envFrom).toEqual([{ secretRef: { name: 'shipbot-secrets' } }]);
    // Tokens come from the Secret, never written into the manifest.
    expect(JSON.stringify(c.env)).not.toMatch(/xox[abp]-|xapp-|sk-ant-/);
    expect(c.env.find((e: { name: string }) => e.name === 'SHIPBOT_CONFIG').value).toBe('/etc/shipbot/shipbot.yml');
  });
});
