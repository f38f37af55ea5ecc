// A deploy request's words: service, version, environment, strategy and the rest. What the text
// does not say is listed in `missing`, never guessed.
import type { ShipbotConfig } from './config-schema.js';
import { resolveService } from './fuzzy.js';
import { environmentWord, strategyWord, type Flags } from './parse-flags.js';
import { describeHints, GENTLE_CANARY_STEPS, readGuidance } from './parse-keywords.js';
import { extractCanarySteps } from './parse-steps.js';
import { extractSchedule } from './schedule-time.js';
import { DeployRequest, VERSION_PATTERN, type Environment, type ParseResult, type Strategy } from './types.js';
import { fail, normalisePhrases } from './parse-text.js';

// ---------------------------------------------------------------------------------------------
// Deploy requests

/** Words that carry no service or version (connectives, nouns around "deploy", keyword words). */
export const FILLERS = new Set(
  (
    'to in into on onto for of with using use via as the a an new newest latest please pls plz now right away today then and also ' +
    'it this that these our my your version release deployment deploy deploys rollout golive build app application service svc ' +
    'strategy mode style environment env cluster thanks thank you ty thx me us out up over all from by at just again quickly ' +
    'safely so we can but because since be is are switch traffic step steps stage stages percent risk high low medium med ' +
    'high-risk low-risk medium-risk zero downtime zero-downtime no without database db schema migration migrations change ' +
    'changes security secure performance perf latency compliance audit tight urgent urgently asap emergency hotfix hot-fix ' +
    'deadline timeline instant instantly immediate fast quick rollback careful carefully cautious cautiously conservative ' +
    'gentle gently slowly focus critical production-ready ready fix fixes bugfix patch image tag strategy: go live ' +
    'everything across fleet pods pod containers container via please! only one single straight directly time window ' +
    'regression regressions threshold auto automatic automatically rollbacks'
  ).split(' '),
);
export const OTHER_ENVIRONMENTS = new Set([
  'dev',
  'development',
  'qa',
  'uat',
  'test',
  'testing',
  'sandbox',
  'local',
  'preprod',
  'pre-prod',
  'integration',
  'demo',
  'perf-env',
]);
export const PREPOSITIONS = new Set(['to', 'in', 'into', 'on', 'onto', 'env', 'environment']);
export const VERSION_KEYWORDS = new Set(['version', 'tag', 'image', 'build', 'v', 'ver']);

export function cleanToken(raw: string): string {
  return raw.replace(/^[(["'*~]+/, '').replace(/[)\]"'*~,.!?:]+$/, '');
}

export function versionProblem(candidate: string): string {
  const shown = candidate.length > 40 ? `${candidate.slice(0, 40)}…` : candidate;
  const why = /^sha256:/i.test(candidate)
    ? 'a digest is sha256: followed by 64 hex characters'
    : candidate.length > 128
      ? `it is ${candidate.length} characters (at most 128)`
      : /\s/.test(candidate)
        ? 'it contains spaces'
        : /[:@]/.test(candidate)
          ? `it contains '${/[:@]/.exec(candidate)![0]}'`
          : /^[.-]/.test(candidate)
            ? `it starts with '${candidate[0]}'`
            : 'only letters, digits, ., _ and - are allowed';
  return `'${shown}' is not a valid version (${why}). An image tag is 1–128 characters of A-Z a-z 0-9 . _ -; nothing was started.`;
}

export interface Collected {
  service?: string;
  serviceWord?: string;
  version?: string;
  environment?: Environment;
  strategy?: Strategy;
  unknown: string[];
  keywordText: string[];
  notes: string[];
}

export function parseDeploy(rest: string, flags: Flags, cfg: ShipbotConfig, now: Date, notes: string[]): ParseResult {
  let text = normalisePhrases(rest);
  const regression = readRegressionPhrases(text, flags);
  if (!regression.ok) return regression;
  text = regression.text;

  const schedule = extractSchedule(text, now);
  if (!schedule.ok) return fail(schedule.reason);
  text = schedule.text;
  if (schedule.note) notes.push(schedule.note);

  const steps = extractCanarySteps(text, cfg.defaults.canarySteps);
  if (!steps.ok) return fail(steps.reason);
  text = steps.text;
  if (steps.note) notes.push(steps.note);

  const collected = collect(text, cfg, notes);
  if (!collected.ok) return collected;
  return finishDeploy(flags, cfg, notes, collected.c, steps.steps, schedule.scheduledAt);
}

/** `regression threshold 3%`, `no rollback on regression` written as words instead of flags. */
export function readRegressionPhrases(text: string, flags: Flags): { ok: true; text: string } | { ok: false; reason: string } {
  let out = text;
  const threshold = /\bregression[- ]threshold(?:\s+(?:of|at|=|:))?\s+(\d+(?:\.\d+)?)\s*%?/i.exec(out);
  if (threshold) {
    const n = Number(threshold[1]);
    if (n > 100) return { ok: false, reason: `A regression threshold is a percentage from 0 to 100 (got ${threshold[1]}).` };
    if (flags.regressionThresholdPct !== undefined && flags.regressionThresholdPct !== n) {
      return { ok: false, reason: `Two regression thresholds (${flags.regressionThresholdPct}% and ${n}%): give one.` };
    }
    flags.regressionThresholdPct = n;
    out = out.replace(threshold[0], ' ');
  }
  const noRollback = /\b(?:no|without|don'?t|do not|never)\s+(?:auto(?:matic(?:ally)?)?[- ]?)?rollback\s+on\s+regressions?\b/i.exec(out);
  const rollback = /\b(?:auto(?:matic(?:ally)?)?[- ]?)?rollback\s+on\s+regressions?\b/i.exec(out);
  const value = noRollback ? false : rollback ? true : undefined;
  if (value !== undefined) {
    if (flags.rollbackOnRegression !== undefined && flags.rollbackOnRegression !== value) {
      return { ok: false, reason: 'The request says both to roll back and not to roll back on regression: give one.' };
    }
    flags.rollbackOnRegression = value;
    out = out.replace((noRollback ?? rollback)![0], ' ');
  }
  return { ok: true, text: out };
}

export function collect(text: string, cfg: ShipbotConfig, notes: string[]): { ok: true; c: Collected } | { ok: false; reason: string } {
  const raw = text.split(/[ \t\r\n]+/).filter(Boolean);
  const c: Collected = { unknown: [], keywordText: [], notes };
  let serviceIndex = -1;
  let forceVersionAt = -1;

  const setVersion = (candidate: string): string | undefined => {
    if (!VERSION_PATTERN.test(candidate)) return versionProblem(candidate);
    if (c.version && c.version !== candidate)
      return `The request names two versions ('${c.version}' and '${candidate}'): deploy one version at a time.`;
    c.version = candidate;
    return undefined;
  };
  const resolved = new Map<string, ReturnType<typeof resolveService>>();
  const setService = (word: string, index: number): string | undefined => {
    const key = word.toLowerCase();
    const r = resolved.get(key) ?? resolveService(key, cfg);
    resolved.set(key, r);
    if (r.kind === 'unknown') {
      c.unknown.push(word.toLowerCase());
      return undefined;
    }
    // Once a service is named, only an exact name or alias counts as a second one, not a near miss.
    if (c.service && r.kind === 'typo') return undefined;
    if (c.service && c.service !== r.service.name) {
      return `The request names two services ('${c.service}' and '${r.service.name}'): deploy one service per request.`;
    }
    if (r.kind === 'alias') notes.push(`'${word}' is an alias of ${r.service.name}`);
    if (r.kind === 'typo') notes.push(`read '${word}' as '${r.service.name}' (did you mean ${r.service.name}?)`);
    c.service = r.service.name;
    c.serviceWord = word;
    serviceIndex = index;
    return undefined;
  };

  for (let i = 0; i < raw.length; i++) {
    const quoted = raw[i].startsWith('"') && raw[i].endsWith('"') && raw[i].length >= 2;
    const token = quoted ? raw[i].slice(1, -1).replace(/\u00a0/g, ' ') : cleanToken(raw[i]);
    if (!token) continue;
    const w = token.toLowerCase();
    const prev = i > 0 ? cleanToken(raw[i - 1]).toLowerCase() : '';

    if (i === forceVersionAt) {
      const problem = setVersion(token);
      if (problem) return { ok: false, reason: problem };
      continue;
    }
    if (quoted && /\s/.test(token)) {
      // A quoted phrase is free text, unless it stands where a version goes.
      if (i === serviceIndex + 1 && serviceIndex !== -1 && /\d/.test(token)) return { ok: false, reason: versionProblem(token) };
      c.keywordText.push(token);
      continue;
    }
    if (/^--?[a-z]/i.test(token)) {
      return { ok: false, reason: `Unknown option '${token}'. Options go like --guidance "…", --interactive, --strategy canary.` };
    }
    if (VERSION_KEYWORDS.has(w) && i + 1 < raw.length) {
      const next = cleanToken(raw[i + 1]).toLowerCase();
      if (w === 'v' || next === 'latest' || (!FILLERS.has(next) && !environmentWord(next) && !strategyWord(next))) {
        forceVersionAt = i + 1;
        if (w === 'v') raw[i + 1] = `v${raw[i + 1]}`;
      }
      continue;
    }
    if (w.endsWith('%')) {
      return { ok: false, reason: `Unexpected traffic share '${token}': give the canary steps once, e.g. 5% → 25% → 100%.` };
    }
    const env = environmentWord(w);
    if (env && (w !== 'stage' || PREPOSITIONS.has(prev))) {
      if (c.environment && c.environment !== env) {
        return { ok: false, reason: `The request names two environments (${c.environment} and ${env}): deploy to one at a time.` };
      }
      c.environment = env;
      continue;
    }
    // "on staging to test": once an environment is named, "to test" says why, not where.
    if (OTHER_ENVIRONMENTS.has(w) && PREPOSITIONS.has(prev) && !c.environment) {
      return { ok: false, reason: `'${token}' is not an environment Shipbot deploys to: choose staging or production.` };
    }
    const strategy = strategyWord(w);
    if (strategy) {
      if (c.strategy && c.strategy !== strategy) {
        return { ok: false, reason: `The request names two strategies (${c.strategy} and ${strategy}): choose one.` };
      }
      c.strategy = strategy;
      continue;
    }
    // A bare digest is the version, never `service:tag`.
    if (/^sha256:/i.test(token)) {
      const problem = setVersion(token.toLowerCase());
      if (problem) return { ok: false, reason: problem };
      continue;
    }
    // `checkout@1.2.3` / `checkout:1.2.3` / `checkout/1.2.3` (hubot-deploy's app/ref): service and tag in one word.
    const sep = /[@:/]/.exec(token);
    if (sep && sep.index > 0 && !/^v?\d/i.test(token) && !/^[a-z]+:\/\//.test(w)) {
      const name = token.slice(0, sep.index);
      const tag = token.slice(sep.index + 1);
      const problem = setService(name, i);
      if (problem) return { ok: false, reason: problem };
      const vProblem = setVersion(tag);
      if (vProblem) return { ok: false, reason: vProblem };
      continue;
    }
    if (/^v?\d/i.test(token)) {
      // A quote on one side only (`1.2.3'`) is no formatting: refused, not trimmed away.
      if (!quoted && (raw[i].split("'").length % 2 === 0 || raw[i].split('"').length % 2 === 0))
        return { ok: false, reason: versionProblem(raw[i]) };
      const problem = setVersion(token);
      if (problem) return { ok: false, reason: problem };
      continue;
    }
    if (FILLERS.has(w) || w.startsWith('#') || w.startsWith('@') || /^[a-z]+:\/\//.test(w)) {
      c.keywordText.push(token);
      continue;
    }
    if (i === serviceIndex + 1 && serviceIndex !== -1 && /\d/.test(token)) {
      // The word right after the service, with a digit in it, is its tag (`checkout rc1`, `checkout abc123f`).
      const problem = setVersion(token);
      if (problem) return { ok: false, reason: problem };
      continue;
    }
    if (/^[a-z][a-z0-9-]*$/.test(w)) {
      const problem = setService(token, i);
      if (problem) return { ok: false, reason: problem };
      if (serviceIndex === i) continue;
    }
    // Unknown words stay in the text the guidance keywords are read from.
    c.keywordText.push(token);
  }
  return { ok: true, c };
}

export function finishDeploy(
  flags: Flags,
  cfg: ShipbotConfig,
  notes: string[],
  c: Collected = { unknown: [], keywordText: [], notes },
  steps?: number[],
  scheduledAt?: string,
): ParseResult {
  const hints = readGuidance([...c.keywordText, flags.guidance ?? ''].join(' '));

  if (flags.environment && c.environment && flags.environment !== c.environment) {
    return fail(`The request says ${c.environment} but --env says ${flags.environment}: give one environment.`);
  }
  if (flags.strategy && c.strategy && flags.strategy !== c.strategy) {
    return fail(`The request says ${c.strategy} but --strategy says ${flags.strategy}: choose one strategy.`);
  }
  const explicit = flags.strategy ?? c.strategy;
  let strategy = explicit;
  if (!strategy && steps) {
    strategy = 'canary';
    notes.push('traffic steps were given, so canary');
  }
  if (!strategy && hints.strategy) strategy = hints.strategy.value;
  if (steps && strategy !== 'canary') {
    return fail(`Traffic steps (${steps.join('% → ')}%) only apply to canary, but the request asks for ${strategy}.`);
  }
  if (explicit && hints.strategy && hints.strategy.value !== explicit) {
    notes.push(`kept ${explicit} as asked; '${hints.strategy.keyword}' alone would suggest ${hints.strategy.value}`);
  }

  const risk = flags.risk ?? hints.risk?.value;
  if (flags.risk && hints.risk && flags.risk !== hints.risk.value) {
    notes.push(`kept --risk ${flags.risk}; the text says '${hints.risk.keyword}'`);
  }
  let canarySteps = steps;
  if (!canarySteps && strategy === 'canary' && (hints.gentleSteps || risk === 'high')) canarySteps = GENTLE_CANARY_STEPS;

  for (const n of describeHints(hints)) {
    if (!notes.includes(n)) notes.push(n);
  }

  const missing: Array<'service' | 'version'> = [];
  if (!c.service) missing.push('service');
  if (!c.version) missing.push('version');
  let unknownService: string | undefined;
  let suggestions: string[] = [];
  if (!c.service && c.unknown.length > 0) {
    unknownService = c.unknown[0];
    const r = resolveService(unknownService, cfg);
    suggestions = r.kind === 'unknown' ? r.suggestions : [r.service.name];
    notes.push(
      suggestions.length > 0
        ? `no service named '${unknownService}'; did you mean ${suggestions.join(' or ')}?`
        : `no service named '${unknownService}' (known: ${cfg.services.map((s) => s.name).join(', ')})`,
    );
  }

  const candidate = {
    intent: 'deploy' as const,
    service: c.service,
    version: c.version,
    environment: flags.environment ?? c.environment,
    strategy,
    canarySteps,
    risk,
    dbMigration: hints.dbMigration?.value,
    guidance: flags.guidance,
    interactive: flags.interactive,
    regressionThresholdPct: flags.regressionThresholdPct,
    rollbackOnRegression: flags.rollbackOnRegression,
    focus: hints.focus.map((f) => f.value),
    timeline: hints.timeline?.value,
    scheduledAt,
    missing,
    unknownService,
    suggestions,
    notes,
  };
  const parsed = DeployRequest.safeParse(dropUndefined(candidate));
  if (!parsed.success) {
    return fail(`The request could not be understood: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}.`);
  }
  return { ok: true, command: parsed.data };
}

export function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
