// Configuration: data/shipbot.yml (service catalogue, roles, channels, defaults, freeze windows)
// and the environment variables listed in DESIGN.md. Validated once here; trusted inside.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { validateDetailed } from 'node-cron';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { editDistance } from './domain/fuzzy.js';
import { ShipbotConfig } from './domain/config-schema.js';

export * from './domain/config-schema.js';

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file} is not a valid Shipbot config:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** `services[1].environments.production.namespace` from a zod issue path. */
function formatPath(p: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const seg of p) out += typeof seg === 'number' ? `[${seg}]` : out ? `.${String(seg)}` : String(seg);
  return out || '(top level)';
}

/** Every key any object of the config knows, for "did you mean" on an unknown one. */
function knownKeys(schema: z.ZodType, out = new Set<string>()): Set<string> {
  const def = (schema as unknown as { _zod?: { def?: Record<string, unknown> } })._zod?.def ?? {};
  const shape = (def.shape ?? undefined) as Record<string, z.ZodType> | undefined;
  if (shape) for (const [k, v] of Object.entries(shape)) if (!out.has(k)) out.add(k), knownKeys(v, out);
  for (const k of ['innerType', 'element', 'in', 'out', 'valueType']) if (def[k]) knownKeys(def[k] as z.ZodType, out);
  for (const o of (def.options as z.ZodType[] | undefined) ?? []) knownKeys(o, out);
  return out;
}
let KNOWN: string[] | undefined;

function didYouMean(key: string): string {
  KNOWN ??= [...knownKeys(ShipbotConfig)];
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of KNOWN) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best && bestD <= Math.max(1, Math.floor(key.length / 3)) ? ` (did you mean '${best}'?)` : '';
}

export function formatIssues(error: z.ZodError): string[] {
  return error.issues.flatMap((i) => {
    if (i.code === 'unrecognized_keys') {
      return i.keys.map((k) => `${formatPath([...i.path, k])}: unknown key${didYouMean(k)}`);
    }
    const missing = i.code === 'invalid_type' && /received undefined/.test(i.message);
    return [`${formatPath(i.path)}: ${missing ? 'Required' : i.message}`];
  });
}

/** Validates YAML text; every problem is listed by path, never as a stack trace. */
export function parseConfig(text: string, file = 'shipbot.yml'): ShipbotConfig {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => `YAML: ${e.message.split('\n')[0]}`),
    );
  }
  const result = ShipbotConfig.safeParse(doc.toJS() ?? {});
  if (!result.success) throw new ConfigError(file, formatIssues(result.error));
  const problems = crossCheck(result.data);
  if (problems.length > 0) throw new ConfigError(file, problems);
  return result.data;
}

/** Rules zod cannot see in one object: unique names and aliases. */
function crossCheck(cfg: ShipbotConfig): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  cfg.services.forEach((s, i) => {
    for (const name of [s.name, ...s.aliases]) {
      const key = name.toLowerCase();
      const owner = seen.get(key);
      if (owner && owner !== s.name) problems.push(`services[${i}].aliases: '${name}' is already used by service '${owner}'`);
      if (owner === s.name && name !== s.name) problems.push(`services[${i}].aliases: '${name}' repeats`);
      seen.set(key, s.name);
    }
  });
  cfg.freezeWindows.forEach((w, i) => {
    const v = validateDetailed(w.cron);
    if (!v.valid) problems.push(`freezeWindows[${i}].cron: ${v.errors.map((e) => e.message).join('; ')}`);
  });
  return problems;
}

export function loadConfigFile(file: string): ShipbotConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(file, [code === 'ENOENT' ? 'file not found (set SHIPBOT_CONFIG or create it)' : `cannot read: ${code}`]);
  }
  return parseConfig(text, file);
}

// ---------------------------------------------------------------------------------------------
// Environment

const Env = z.object({
  SLACK_BOT_TOKEN: z
    .string()
    .regex(/^xoxb-/, 'must start with xoxb-')
    .optional(),
  SLACK_APP_TOKEN: z
    .string()
    .regex(/^xapp-/, 'must start with xapp-')
    .optional(),
  SLACK_SIGNING_SECRET: z.string().min(1).optional(),
  SLACK_API_URL: z.string().url().default('https://slack.com/api/'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** Git credentials for environments with `gitops`: a token over HTTPS, or an SSH key file. */
  SHIPBOT_GIT_TOKEN: z.string().min(1).optional(),
  SHIPBOT_GIT_TOKEN_FILE: z.string().min(1).optional(),
  SHIPBOT_GIT_USERNAME: z.string().min(1).optional(),
  SHIPBOT_GIT_SSH_KEY_FILE: z.string().min(1).optional(),
  /** /metrics on its own port, so a NetworkPolicy can admit only the monitoring namespace to it. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  KUBECONFIG: z.string().min(1).optional(),
  PROMETHEUS_URL: z.string().url().optional(),
  /** Alertmanager's base URL: firing alerts are read from its API v2 (else from Prometheus's ALERTS). */
  ALERTMANAGER_URL: z.string().url().optional(),
  /** Sent as `Authorization: Bearer …` to PROMETHEUS_URL. */
  PROMETHEUS_BEARER_TOKEN: z.string().min(1).optional(),
  /** PEM file of the CA that signed PROMETHEUS_URL's certificate. */
  PROMETHEUS_CA_FILE: z.string().min(1).optional(),
  ANTHROPIC_API_KEY: z.string().min(1).optional(),
  ANTHROPIC_BASE_URL: z.string().url().optional(),
  // Not claude-sonnet-4-5: it reaches end of life on 2026-11-30.
  SHIPBOT_MODEL: z.string().min(1).default('claude-sonnet-4-6'),
  SHIPBOT_CONFIG: z.string().min(1).default('data/shipbot.yml'),
  SHIPBOT_DATA_DIR: z.string().min(1).default('data'),
  /** Postgres shared by replicas (postgres://user:pass@host/db); without it, SQLite in SHIPBOT_DATA_DIR. */
  SHIPBOT_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'a Postgres URL: postgres://user:password@host:5432/database')
    .optional(),
  /** Where people open reports (`<url>/reports/<run>`, served on PORT); without it, reports are attached to the thread. */
  SHIPBOT_PUBLIC_URL: z.string().url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SHIPBOT_SPEED: z.coerce.number().positive().optional(),
  /** Simulated users per Service in the sandbox (default 200); the sandbox.shipbot.dev/rps annotation wins. */
  SHIPBOT_SANDBOX_RPS: z.coerce.number().min(0).optional(),
});
export type EnvConfig = z.infer<typeof Env>;

export function readEnv(env: NodeJS.ProcessEnv = process.env): EnvConfig {
  // Treat empty strings as unset: `SLACK_BOT_TOKEN= npm start` means "no token".
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = Env.safeParse(cleaned);
  if (!result.success) throw new ConfigError('environment', formatIssues(result.error));
  return result.data;
}

export interface ResolvedConfig {
  env: EnvConfig;
  config: ShipbotConfig;
  configFile: string;
  dataDir: string;
}

export function loadAll(env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  const e = readEnv(env);
  const configFile = path.resolve(e.SHIPBOT_CONFIG);
  return { env: e, config: loadConfigFile(configFile), configFile, dataDir: path.resolve(e.SHIPBOT_DATA_DIR) };
}
