// The migration Job's pure parts: its fixed name, its manifest from a template or a cloned Job,
// and how its conditions read.
import type { V1Job } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { jobState, migrationJob, migrationJobName, templateOfJob } from '../../src/cluster/migration-job.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

describe('migrationJobName', () => {
  const img = (tag: string) => `registry.example.com/shop/checkout:${tag}`;
  const name = (version: string, env = 'production') => migrationJobName('checkout', env, version, img(version));
  it('is fixed per service, environment and exact image, and a DNS label of at most 63 characters', () => {
    expect(name('v1.2.3')).toMatch(/^checkout-migrate-production-v1-2-3-[0-9a-f]{10}$/);
    expect(name('v1.2.3')).toBe(name('v1.2.3'));
    expect(name('v1.2.3', 'staging')).not.toBe(name('v1.2.3'));
    const digest = `sha256:${'ab'.repeat(32)}`;
    for (const version of [digest, 'V1.2.3_RC-', 'x'.repeat(128)]) {
      const n = migrationJobName('a-rather-long-service-name', 'production', version, img(version));
      expect(n.length).toBeLessThanOrEqual(63);
      expect(n).toMatch(DNS_LABEL);
    }
  });
  it('never lets two images share a Job (issue 32: v1.2.3, v1-2-3, V1.2.3 and v1_2_3 did)', () => {
    const names = ['v1.2.3', 'v1-2-3', 'V1.2.3', 'v1_2_3'].map((v) => name(v));
    expect(new Set(names).size).toBe(4);
    // A tag moved to another digest is another migration.
    const a = migrationJobName('checkout', 'production', 'v1.2.3', `registry.example.com/shop/checkout@sha256:${'a'.repeat(64)}`);
    const b = migrationJobName('checkout', 'production', 'v1.2.3', `registry.example.com/shop/checkout@sha256:${'b'.repeat(64)}`);
    expect(a).not.toBe(b);
  });
});

describe('migrationJob', () => {
  const template = {
    backoffLimit: 2,
    activeDeadlineSeconds: 9999,
    ttlSecondsAfterFinished: 60,
    selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'old' } },
    template: {
      metadata: { labels: { team: 'shop', 'job-name': 'old', 'controller-uid': 'old' } },
      spec: {
        restartPolicy: 'Always',
        containers: [
          { name: 'sidecar', image: 'proxy:1' },
          { name: 'migrate', image: 'old:1', command: ['migrate'] },
        ],
      },
    },
  };
  const input = {
    name: 'checkout-migrate-production-v1-2-3',
    namespace: 'production',
    template,
    container: 'migrate',
    image: 'registry.example.com/shop/checkout:v1.2.3',
    service: 'checkout',
    version: 'v1.2.3',
    runId: 'r-1',
    timeoutSec: 600,
  };

  it('puts the release image in the named container, the timeout as the deadline, no TTL, and its own labels', () => {
    const job = migrationJob(input);
    const spec = job.spec!;
    expect(spec.template.spec?.containers.map((c) => c.image)).toEqual(['proxy:1', 'registry.example.com/shop/checkout:v1.2.3']);
    expect(spec.activeDeadlineSeconds).toBe(600);
    expect(spec.backoffLimit).toBe(2);
    expect(spec.ttlSecondsAfterFinished).toBeUndefined();
    expect(spec.selector).toBeUndefined();
    expect(spec.template.spec?.restartPolicy).toBe('Never');
    expect(spec.template.metadata?.labels).toEqual({
      team: 'shop',
      'shipbot/migration': 'checkout',
      'shipbot/run': 'r-1',
      'app.kubernetes.io/version': 'v1.2.3',
    });
    expect(job.metadata).toMatchObject({ name: input.name, namespace: 'production', labels: { 'shipbot/run': 'r-1' } });
    // The template itself is left as it was.
    expect(template.template.spec.containers[1]!.image).toBe('old:1');
  });

  it('refuses a template without the named container, or without containers', () => {
    expect(() => migrationJob({ ...input, container: 'nope' })).toThrow(/no container "nope".*sidecar, migrate/);
    expect(() => migrationJob({ ...input, template: { template: { spec: { containers: [] } } } })).toThrow(/no containers/);
  });

  it('clones an existing Job without what its controller generated', () => {
    const existing: V1Job = { metadata: { name: 'checkout-migrate' }, spec: { ...template, manualSelector: false } as V1Job['spec'] };
    const spec = templateOfJob(existing);
    expect(spec.selector).toBeUndefined();
    expect(spec.manualSelector).toBeUndefined();
    expect(() => templateOfJob({ metadata: { name: 'empty' } })).toThrow(/no spec/);
  });
});

describe('jobState', () => {
  const at = (conditions: Array<{ type: string; status: string; reason?: string; message?: string }>, status = {}): V1Job => ({
    spec: { backoffLimit: 1, template: {} },
    status: { ...status, conditions: conditions as never },
  });
  it('reads Complete and SuccessCriteriaMet as done, Failed and FailureTarget as failed with the reason, else running', () => {
    expect(jobState(at([{ type: 'Complete', status: 'True' }])).state).toBe('complete');
    expect(jobState(at([{ type: 'SuccessCriteriaMet', status: 'True' }])).state).toBe('complete');
    expect(jobState(at([{ type: 'FailureTarget', status: 'True', reason: 'DeadlineExceeded', message: 'too long' }]))).toEqual({
      state: 'failed',
      reason: 'DeadlineExceeded',
      detail: 'too long',
    });
    expect(jobState(at([{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }]))).toMatchObject({
      state: 'failed',
      reason: 'BackoffLimitExceeded',
    });
    expect(jobState(at([{ type: 'Complete', status: 'False' }], { active: 1, failed: 1 }))).toEqual({
      state: 'running',
      detail: '1 running, 1 failed attempts (backoff limit 1)',
    });
    expect(jobState({}).state).toBe('running');
  });
});
