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

describe('deploy/replicas/ (two replicas on Postgres)', () => {
  const read = (f: string) =>
    // biome-ignore lint/suspicious/noExplicitAny: manifests are read as YAML; the assertions below check their shape
    parseAllDocuments(readFileSync(`deploy/replicas/${f}`, 'utf8')).map((d) => d.toJS() as any);

  it('builds on deploy/ and adds the Lease RBAC and a PodDisruptionBudget; the SQLite volume claim goes', () => {
    const k = read('kustomization.yaml')[0];
    expect(k.resources).toEqual(['../', 'leader-rbac.yaml', 'pdb.yaml']);
    expect(k.patches.map((p: { path?: string }) => p.path).filter(Boolean)).toEqual(['deployment-patch.yaml']);
    expect(k.patches.find((p: { patch?: string }) => p.patch)?.patch).toMatch(
      /PersistentVolumeClaim[\s\S]*shipbot-data[\s\S]*\$patch: delete/,
    );
  });

  it('runs two pods on different nodes, one at a time in an update, with the database URL from a Secret and the pod namespace for the Lease', () => {
    const dep = read('deployment-patch.yaml')[0];
    expect(dep.spec.replicas).toBe(2);
    expect(dep.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    const anti = dep.spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution;
    expect(anti).toEqual([{ labelSelector: { matchLabels: { app: 'shipbot' } }, topologyKey: 'kubernetes.io/hostname' }]);
    const env = dep.spec.template.spec.containers[0].env;
    expect(env.find((e: { name: string }) => e.name === 'SHIPBOT_DATABASE_URL')).toEqual({
      name: 'SHIPBOT_DATABASE_URL',
      valueFrom: { secretKeyRef: { name: 'shipbot-database', key: 'url' } },
    });
    expect(env.find((e: { name: string }) => e.name === 'POD_NAMESPACE').valueFrom).toEqual({
      fieldRef: { fieldPath: 'metadata.namespace' },
    });
    expect(JSON.stringify(env)).not.toMatch(/postgres:\/\//);
    const pdb = read('pdb.yaml')[0];
    expect(pdb.spec).toEqual({ minAvailable: 1, selector: { matchLabels: { app: 'shipbot' } } });
  });

  it('grants the Lease calls the elector makes (read, create, replace), on shipbot-leader only, to the shipbot service account', () => {
    const [role, binding] = read('leader-rbac.yaml');
    expect(role.metadata).toEqual({ name: 'shipbot-leader', namespace: 'shipbot' });
    const leader = readFileSync('src/ops/leader.ts', 'utf8');
    const calls = [...leader.matchAll(/\.(read|create|replace)NamespacedLease\(/g)].map(
      (m) => ({ read: 'get', create: 'create', replace: 'update' })[m[1]!],
    );
    for (const verb of new Set(calls)) expect(grants(role.rules, 'coordination.k8s.io', 'leases', verb!), verb).toBe(true);
    // Create cannot be limited by name in RBAC; every other verb is limited to the one Lease.
    for (const r of role.rules) if (!r.verbs.includes('create')) expect(r.resourceNames).toEqual(['shipbot-leader']);
    expect(role.rules.flatMap((r: Rule) => r.verbs).sort()).toEqual(['create', 'get', 'update']);
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'shipbot', namespace: 'shipbot' }]);
    expect(binding.roleRef.name).toBe('shipbot-leader');
  });
});
