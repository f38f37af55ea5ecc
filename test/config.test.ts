import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, findService, parseConfig, readEnv } from '../src/config.js';

const shipped = readFileSync(new URL('../data/shipbot.yml', import.meta.url), 'utf8');

function problemsOf(text: string): string[] {
  try {
    parseConfig(text);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected the config to be rejected');
}

describe('config', () => {
  it('accepts the shipped demo config with the sandbox services', () => {
    const cfg = parseConfig(shipped);
    expect(cfg.services.map((s) => s.name)).toEqual(['checkout', 'payments', 'search', 'web', 'catalog']);
    expect(cfg.defaults.canarySteps).toEqual([5, 25, 50, 100]);
    expect(cfg.roles?.deployers).toEqual(['*']);
    expect(cfg.approvalRequiredFor).toEqual(['high']);
    expect(findService(cfg, 'CO')?.name).toBe('checkout');
    expect(findService(cfg, 'recommendation-engine')?.name).toBe('search');
  });

  it('lists every problem by path, with Required for missing fields', () => {
    const problems = problemsOf(`
services:
  - name: checkout
    image: registry.example.com/checkout
    environments: { production: { namespace: production, deployment: checkout, service: checkout, container: app } }
  - name: Bad_Name
    image: registry.example.com/x
    environments: { production: { deployment: x, service: x, container: app } }
defaults: { canarySteps: [5, 50, 25] }
`);
    expect(problems).toContain('services[1].environments.production.namespace: Required');
    expect(problems.some((p) => p.startsWith('services[1].name:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('defaults.canarySteps:'))).toBe(true);
  });

  it('reports YAML syntax errors and duplicate aliases without a stack trace', () => {
    expect(problemsOf('services: [')[0]).toMatch(/^YAML:/);
    const dup = shipped.replace('aliases: [payment,', 'aliases: [co, payment,');
    expect(problemsOf(dup)).toEqual([`services[1].aliases: 'co' is already used by service 'checkout'`]);
  });

  it('validates the environment and treats empty variables as unset', () => {
    expect(readEnv({ SLACK_BOT_TOKEN: '', PORT: '4000' }).SLACK_BOT_TOKEN).toBeUndefined();
    expect(readEnv({ PORT: '4000' }).PORT).toBe(4000);
    expect(() => readEnv({ SLACK_BOT_TOKEN: 'nope' })).toThrow(/SLACK_BOT_TOKEN: must start with xoxb-/);
  });
  it('rejects unknown keys anywhere, with their path and a "did you mean" (zod objects used to drop them silently)', () => {
    const problems = problemsOf(`
services:
  - name: web
    image: registry.example.com/web
    environments:
      production: { namspace: production, deployment: web, service: web, container: web, contxt: prod }
    smoke: [{ name: h, url: "{{baseUrl}}/h", expectStatuss: 200 }]
defaults: { canarySteps: [5, 100], colour: blue }
prometheus: { scrapeInterval: 30 }
`);
    expect(problems).toEqual(
      expect.arrayContaining([
        "services[0].environments.production.namspace: unknown key (did you mean 'namespace'?)",
        "services[0].environments.production.contxt: unknown key (did you mean 'context'?)",
        "services[0].smoke[0].expectStatuss: unknown key (did you mean 'expectStatus'?)",
        'defaults.colour: unknown key',
        "prometheus.scrapeInterval: unknown key (did you mean 'scrapeIntervalSec'?)",
      ]),
    );
  });
  it("accepts DESIGN.md's environments.<env>.trafficRouting (gatewayAPI or istio) and refuses other shapes", () => {
    const withRouting = (routing: string) =>
      shipped.replace(
        'production: { namespace: production, deployment: web, service: web, container: web }',
        `production: { namespace: production, deployment: web, service: web, container: web, trafficRouting: ${routing} }`,
      );
    expect(
      findService(parseConfig(withRouting('{ gatewayAPI: { httpRoute: web } }')), 'web')?.environments.production.trafficRouting,
    ).toEqual({ gatewayAPI: { httpRoute: 'web' } });
    expect(
      findService(parseConfig(withRouting('{ istio: { virtualService: web, routes: [primary] } }')), 'web')?.environments.production
        .trafficRouting,
    ).toEqual({ istio: { virtualService: 'web', routes: ['primary'] } });
    expect(problemsOf(withRouting('{ nginx: { ingress: web } }')).join(' ')).toMatch(/trafficRouting/);
  });
  it('accepts a migration per service or environment; asks for backwardCompatible and exactly one of job / fromJob', () => {
    const cfg = parseConfig(shipped);
    expect(findService(cfg, 'checkout')?.migration).toMatchObject({
      timeoutSec: 600,
      backwardCompatible: true,
      always: false,
      job: { template: { spec: { restartPolicy: 'Never' } } },
    });
    const web = (migration: string) =>
      shipped.replace(
        'production: { namespace: production, deployment: web, service: web, container: web }',
        `production: { namespace: production, deployment: web, service: web, container: web, migration: ${migration} }`,
      );
    expect(
      findService(parseConfig(web('{ fromJob: web-migrate, backwardCompatible: false }')), 'web')?.environments.production.migration,
    ).toEqual({ fromJob: 'web-migrate', backwardCompatible: false, timeoutSec: 600, always: false });
    expect(problemsOf(web('{ fromJob: web-migrate }')).join(' ')).toMatch(/backwardCompatible: say whether the migration is expand-only/);
    expect(problemsOf(web('{ backwardCompatible: true }')).join(' ')).toMatch(/exactly one of job .* or fromJob/);
    expect(
      problemsOf(
        web('{ fromJob: web-migrate, backwardCompatible: true, job: { template: { spec: { containers: [{ name: m }] } } } }'),
      ).join(' '),
    ).toMatch(/exactly one of job/);
  });

  it('accepts environments.<env>.context and prometheus.scrapeIntervalSec', () => {
    const cfg = parseConfig(
      shipped.replace(
        'production: { namespace: production, deployment: web, service: web, container: web }',
        'production: { namespace: production, deployment: web, service: web, container: web, context: prod-cluster }',
      ) + '\nprometheus: { scrapeIntervalSec: 15 }\n',
    );
    expect(findService(cfg, 'web')?.environments.production.context).toBe('prod-cluster');
    expect(cfg.prometheus.scrapeIntervalSec).toBe(15);
  });
});
