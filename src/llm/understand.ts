// Understanding free text: what Claude may propose (schema + tool), and the pure check that
// turns its proposal into a DeployRequest only with facts the catalogue and the person's own
// words support. Claude's output is a proposal for a person to confirm, never an action.
import { z } from 'zod';
import { findService, type ShipbotConfig } from '../config.js';
import { CanarySteps, DeployRequest, Environment, Focus, RiskLevel, Strategy, Timeline, VERSION_PATTERN } from '../domain/types.js';
import type { ToolSpec } from './claude.js';

/**
 * What the model may fill. Strict: any extra field (say `startNow` or `rollbackOnRegression`,
 * which an injected message might ask for) fails validation. Claude sends `null` for "unknown"
 * as often as it omits a field, so both mean absent.
 */
export const Proposal = z.strictObject({
  isDeployRequest: z.boolean(),
  service: z.string().max(100).nullish(),
  version: z.string().max(200).nullish(),
  environment: Environment.nullish(),
  strategy: Strategy.nullish(),
  canarySteps: z.array(z.number().int().min(1).max(100)).max(10).nullish(),
  risk: RiskLevel.nullish(),
  dbMigration: z.boolean().nullish(),
  timeline: Timeline.nullish(),
  focus: z.array(Focus).max(3).nullish(),
  reading: z.string().max(300).nullish(),
});
export type Proposal = z.infer<typeof Proposal>;

export const PROPOSE_TOOL: ToolSpec<Proposal> = {
  name: 'propose_deploy_request',
  description:
    'Propose the structured deploy request the message describes. Leave a field empty when the message does not say it. ' +
    'A person confirms the proposal before anything is deployed.',
  schema: Proposal,
};

/** The catalogue lines the prompt shows (trusted: it comes from our config). */
export function catalogueForPrompt(cfg: ShipbotConfig): string {
  return cfg.services
    .map(
      (s) =>
        `- ${s.name} — ${s.aliases.join(', ') || '(no aliases)'} — ${s.description || '(no description)'} — ${s.strategies.join(', ')}`,
    )
    .join('\n');
}

/** Lower-case, with `-`, `_` and runs of spaces made one space: "Recommendation-Engine" ~ "recommendation engine". */
function normalise(text: string): string {
  return ` ${text.toLowerCase().replace(/[-_\s]+/g, ' ')} `;
}

function mentions(text: string, phrase: string): boolean {
  const hay = normalise(text).replace(/[^a-z0-9. ]/g, ' ');
  const needle = normalise(phrase).trim();
  return needle.length > 0 && new RegExp(`(^|[^a-z0-9])${needle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^a-z0-9])`).test(hay);
}

/** True when `version` appears in the text as a whole image-tag token, exactly as written. */
export function versionWritten(text: string, version: string): boolean {
  const esc = version.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^A-Za-z0-9._-])${esc}(?![A-Za-z0-9_-]|\\.[A-Za-z0-9])`).test(text);
}

const ENV_WORDS: Record<z.infer<typeof Environment>, RegExp> = {
  staging: /\b(staging|stage|stg)\b/i,
  production: /\b(production|prod|live)\b/i,
};

export interface ProposalCheck {
  request?: DeployRequest;
  /** What was dropped and why, for the note shown to the person. */
  rejected: string[];
}

/**
 * Keeps only what the catalogue and the person's own words support:
 * - the service must be in the catalogue and named (or aliased) in the text;
 * - the version must be a valid tag written in the text;
 * - the environment must be named in the text (else the default applies);
 * - strategies must be allowed for the service; canary steps must be valid.
 */
export function checkProposal(proposal: Proposal, text: string, cfg: ShipbotConfig): ProposalCheck {
  const rejected: string[] = [];
  if (!proposal.isDeployRequest) return { rejected: ['Claude did not read this as a deploy request'] };

  const missing: Array<'service' | 'version'> = [];
  const suggestions: string[] = [];
  let service: string | undefined;
  if (proposal.service) {
    const found = findService(cfg, proposal.service.trim());
    if (!found) {
      rejected.push(`service '${proposal.service}' is not in the service catalogue`);
    } else if (![found.name, ...found.aliases].some((n) => mentions(text, n))) {
      rejected.push(`service '${found.name}' is not named in the message`);
      suggestions.push(found.name);
    } else {
      service = found.name;
    }
  }
  if (!service) missing.push('service');

  let version: string | undefined;
  if (proposal.version) {
    const v = proposal.version.trim();
    if (!VERSION_PATTERN.test(v)) rejected.push(`version '${v}' is not a valid image tag`);
    else if (!versionWritten(text, v)) rejected.push(`version '${v}' is not written in the message`);
    else version = v;
  }
  if (!version) missing.push('version');

  let environment: z.infer<typeof Environment> | undefined;
  if (proposal.environment) {
    if (ENV_WORDS[proposal.environment].test(text)) environment = proposal.environment;
    else rejected.push(`environment '${proposal.environment}' is not named in the message`);
  }

  const notes: string[] = [];
  let canarySteps: number[] | undefined;
  if (proposal.canarySteps && proposal.canarySteps.length > 0) {
    const steps = [...proposal.canarySteps];
    // "10% first" often comes back as [10]: finishing the rollout at 100 is implied.
    if (steps[steps.length - 1] !== 100) steps.push(100);
    const ok = CanarySteps.safeParse(steps);
    if (ok.success) canarySteps = ok.data;
    else rejected.push(`canary steps ${JSON.stringify(proposal.canarySteps)} are not rising percentages ending at 100`);
  }

  let strategy = proposal.strategy ?? (canarySteps ? 'canary' : undefined);
  const svc = service ? findService(cfg, service) : undefined;
  if (strategy && svc && !svc.strategies.includes(strategy)) {
    rejected.push(`strategy '${strategy}' is not allowed for ${svc.name} (allowed: ${svc.strategies.join(', ')})`);
    strategy = undefined;
  }
  if (strategy !== 'canary' && canarySteps && proposal.strategy) {
    rejected.push('canary steps ignored: the strategy is not canary');
    canarySteps = undefined;
  }

  notes.push('Proposed by Claude from free text: check it before starting');
  if (proposal.reading) notes.push(`Claude read it as: ${proposal.reading.trim()}`);
  if (rejected.length > 0) notes.push(`Not taken from Claude: ${rejected.join('; ')}`);

  const parsed = DeployRequest.safeParse({
    intent: 'deploy',
    service,
    version,
    environment,
    strategy,
    canarySteps,
    risk: proposal.risk ?? undefined,
    dbMigration: proposal.dbMigration ?? undefined,
    timeline: proposal.timeline ?? undefined,
    focus: proposal.focus ?? [],
    interactive: true,
    missing,
    suggestions,
    notes,
  });
  if (!parsed.success) return { rejected: [...rejected, 'the proposal does not make a valid deploy request'] };
  return { request: parsed.data, rejected };
}
