// The one object the rest of Shipbot uses for Claude. Every method answers (never throws) and
// says in `note` where the answer came from. Without ANTHROPIC_API_KEY, or when a call is slow,
// fails or answers with something that does not validate, the deterministic version is used.
// Callers must not await these on a Slack acknowledgement or rollback path.
import type { EnvConfig, ShipbotConfig } from '../config.js';
import { findService } from '../config.js';
import { applyGuidance } from '../domain/guidance.js';
import { STRATEGIES, type DeployPlan, type DeployRequest } from '../domain/types.js';
import { createLogger, type Logger } from '../log.js';
import type { Diagnostics } from '../domain/run.js';
import { ADJUST_TOOL, applyAdjustments, planForPrompt, type PlanChange } from './adjust-plan.js';
import { Claude, type ClaudeOutcome } from './claude.js';
import { diagnose, factsOf, formatFacts, type Diagnosis, type Fact } from './diagnose.js';
import { INVESTIGATE_TOOL, checkInvestigation } from './investigate.js';
import { fillPrompt, loadPrompts, quoteData, type PromptSet } from './prompts.js';
import { SUMMARY_TOOL, deterministicSummary, formatSummaryFacts, type SummaryFacts, type SummaryKind } from './summaries.js';
import { cleanModelText } from './text.js';
import { PROPOSE_TOOL, catalogueForPrompt, checkProposal } from './understand.js';

export type { PlanChange } from './adjust-plan.js';
export type { Fact } from './diagnose.js';
export type { SummaryFacts, SummaryKind } from './summaries.js';

/** Where an answer came from: Claude, or the deterministic rules. */
export type Source = 'claude' | 'rules';

export interface Understanding {
  /** A proposal for a person to confirm; absent when nothing usable came back. */
  request?: DeployRequest;
  note: string;
  source: Source;
}

export interface PlanAdjustment {
  plan: DeployPlan;
  changes: PlanChange[];
  note: string;
  source: Source;
}

export interface Investigation extends Diagnosis {
  /** The numbered raw facts the reading cites; post them beside it. */
  facts: Fact[];
  note: string;
  source: Source;
}

export interface Summary {
  text: string;
  note: string;
  source: Source;
}

export interface Llm {
  /** True when a key is configured and the prompts loaded. */
  readonly enabled: boolean;
  understand(text: string, cfg: ShipbotConfig): Promise<Understanding>;
  adjustPlan(plan: DeployPlan, guidance: string, cfg?: ShipbotConfig): Promise<PlanAdjustment>;
  investigate(diagnostics: Diagnostics): Promise<Investigation>;
  /** Plain-language prose; `facts` is SummaryFacts or the reports' own fact object. */
  summarise(kind: SummaryKind, facts: SummaryFacts | Record<string, unknown>): Promise<string>;
  /** As `summarise`, with where the text came from. */
  summariseWithNote(kind: SummaryKind, facts: SummaryFacts | Record<string, unknown>): Promise<Summary>;
  /**
   * The reports' `Summarise` hook (src/reports/report.ts): Claude's prose, or undefined so the
   * report's own deterministic text stands.
   */
  reportProse(kind: SummaryKind, facts: Record<string, unknown>): Promise<string | undefined>;
}

export interface LlmOptions {
  log?: Logger;
  /** Per attempt (default 8 s). */
  timeoutMs?: number;
  /** Retries after the first attempt (default 2). */
  maxRetries?: number;
  /** Whole call including retries (default 20 s). */
  budgetMs?: number;
  promptsDir?: string;
}

export type LlmEnv = Pick<EnvConfig, 'ANTHROPIC_API_KEY' | 'ANTHROPIC_BASE_URL' | 'SHIPBOT_MODEL'>;

const MAX_MESSAGE_CHARS = 4000;
const RULES = 'used the rule-based result';

export function createLlm(env: LlmEnv, opts: LlmOptions = {}): Llm {
  const log = (opts.log ?? createLogger()).child({ component: 'llm' });
  if (!env.ANTHROPIC_API_KEY) return new RulesOnly(`Claude is off (no ANTHROPIC_API_KEY): ${RULES}`);
  let prompts: PromptSet;
  try {
    prompts = loadPrompts(opts.promptsDir);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    log.error(`Claude disabled: ${reason}. Fix the prompt template and restart.`);
    return new RulesOnly(`Claude is off (prompt templates failed to load): ${RULES}`);
  }
  const claude = new Claude({
    apiKey: env.ANTHROPIC_API_KEY,
    baseURL: env.ANTHROPIC_BASE_URL,
    model: env.SHIPBOT_MODEL,
    timeoutMs: opts.timeoutMs ?? 8_000,
    maxRetries: opts.maxRetries ?? 2,
    budgetMs: opts.budgetMs ?? 20_000,
    maxTokens: 1024,
    log,
  });
  return new ClaudeLlm(claude, prompts);
}

/** Allowed strategies for the plan's service, from the catalogue when we have it. */
function strategiesFor(plan: DeployPlan, cfg?: ShipbotConfig): readonly string[] {
  return (cfg && findService(cfg, plan.service)?.strategies) || STRATEGIES;
}

/** The deterministic guidance, guarded: a bug there must not take the modal down. */
function rulesGuidance(plan: DeployPlan, guidance: string, note: string, cfg?: ShipbotConfig): PlanAdjustment {
  try {
    const r = applyGuidance(plan, guidance, { cfg, service: cfg ? findService(cfg, plan.service) : undefined });
    const warned = r.warnings.length > 0 ? ` (${r.warnings.join(' ')})` : '';
    return { plan: r.plan, changes: r.changes, note: `${note}${warned}`, source: 'rules' };
  } catch (err) {
    return {
      plan,
      changes: [],
      note: `${note} (the rule-based guidance failed too: ${err instanceof Error ? err.message : String(err)}; plan unchanged)`,
      source: 'rules',
    };
  }
}

function rulesInvestigation(d: Diagnostics, note: string): Investigation {
  const facts = factsOf(d);
  return { ...diagnose(d, facts), facts, note, source: 'rules' };
}

/** Every method is the deterministic version, with the same note. No network. */
class RulesOnly implements Llm {
  readonly enabled = false;
  constructor(private readonly note: string) {}
  async understand(): Promise<Understanding> {
    return { note: this.note, source: 'rules' };
  }
  async adjustPlan(plan: DeployPlan, guidance: string, cfg?: ShipbotConfig): Promise<PlanAdjustment> {
    return rulesGuidance(plan, guidance, this.note, cfg);
  }
  async investigate(d: Diagnostics): Promise<Investigation> {
    return rulesInvestigation(d, this.note);
  }
  async summarise(kind: SummaryKind, facts: SummaryFacts | Record<string, unknown>): Promise<string> {
    return deterministicSummary(kind, facts);
  }
  async summariseWithNote(kind: SummaryKind, facts: SummaryFacts | Record<string, unknown>): Promise<Summary> {
    return { text: deterministicSummary(kind, facts), note: this.note, source: 'rules' };
  }
  async reportProse(): Promise<string | undefined> {
    return undefined;
  }
}

class ClaudeLlm implements Llm {
  readonly enabled = true;
  constructor(
    private readonly claude: Claude,
    private readonly prompts: PromptSet,
  ) {}

  private fallbackNote(outcome: ClaudeOutcome<unknown> & { ok: false }): string {
    return `${outcome.reason}: ${RULES}`;
  }

  private byClaude(): string {
    return `Proposed by Claude (${this.claude.model})`;
  }

  /** Runs one Claude step; anything thrown (a bug, a template problem) becomes a failure outcome. */
  private async guarded<T>(fn: () => Promise<ClaudeOutcome<T>>): Promise<ClaudeOutcome<T>> {
    try {
      return await fn();
    } catch (err) {
      return { ok: false, kind: 'api-error', reason: `Claude step failed: ${err instanceof Error ? err.message : String(err)}` };
    }
  }

  async understand(text: string, cfg: ShipbotConfig): Promise<Understanding> {
    if (text.trim().length === 0) return { note: 'Nothing to understand: the message is empty', source: 'rules' };
    if (text.length > MAX_MESSAGE_CHARS) {
      return {
        note: `The message is longer than ${MAX_MESSAGE_CHARS} characters, so it was not sent to Claude; write the request as \`deploy <service> <version>\``,
        source: 'rules',
      };
    }
    const outcome = await this.guarded(() =>
      this.claude.useTool(
        'understand',
        fillPrompt(this.prompts.understand, { catalogue: catalogueForPrompt(cfg), message: quoteData(text) }),
        PROPOSE_TOOL,
      ),
    );
    if (!outcome.ok)
      return {
        note: `${outcome.reason}: nothing more was understood; write the request as \`deploy <service> <version>\``,
        source: 'rules',
      };
    const checked = checkProposal(outcome.value, text, cfg);
    if (!checked.request) {
      return {
        note: `Claude's proposal was not used (${checked.rejected.join('; ')}); write the request as \`deploy <service> <version>\``,
        source: 'rules',
      };
    }
    const dropped = checked.rejected.length > 0 ? `; not taken: ${checked.rejected.join('; ')}` : '';
    return { request: checked.request, note: `${this.byClaude()}: confirm before starting${dropped}`, source: 'claude' };
  }

  async adjustPlan(plan: DeployPlan, guidance: string, cfg?: ShipbotConfig): Promise<PlanAdjustment> {
    if (guidance.trim().length === 0) return { plan, changes: [], note: 'No guidance given', source: 'rules' };
    const allowed = strategiesFor(plan, cfg);
    const outcome = await this.guarded(() =>
      this.claude.useTool(
        'guidance',
        fillPrompt(this.prompts.guidance, {
          plan: planForPrompt(plan),
          strategies: allowed.join(', '),
          guidance: quoteData(guidance.slice(0, 2000)),
        }),
        ADJUST_TOOL,
      ),
    );
    if (!outcome.ok) return rulesGuidance(plan, guidance, this.fallbackNote(outcome), cfg);
    const applied = applyAdjustments(plan, outcome.value, allowed, guidance);
    if (!applied.ok) return rulesGuidance(plan, guidance, `${applied.reason}: ${RULES}`, cfg);
    const what =
      applied.changes.length === 0
        ? 'no changes to the plan'
        : `${applied.changes.length} change${applied.changes.length === 1 ? '' : 's'}, reasons shown`;
    return { plan: applied.plan, changes: applied.changes, note: `${this.byClaude()}: ${what}`, source: 'claude' };
  }

  async investigate(d: Diagnostics): Promise<Investigation> {
    const facts = factsOf(d);
    const baseline = diagnose(d, facts);
    const outcome = await this.guarded(() =>
      this.claude.useTool(
        'investigate',
        fillPrompt(this.prompts.investigate, {
          facts: quoteData(formatFacts(facts)),
          baseline: quoteData(`likely cause: ${baseline.likelyCause}\nsummary: ${baseline.summary}`),
        }),
        INVESTIGATE_TOOL,
      ),
    );
    if (!outcome.ok) return { ...baseline, facts, note: this.fallbackNote(outcome), source: 'rules' };
    const checked = checkInvestigation(outcome.value, facts);
    if (!checked.ok) return { ...baseline, facts, note: `${checked.reason}: ${RULES}`, source: 'rules' };
    return {
      ...checked.diagnosis,
      facts,
      note: `Written by Claude (${this.claude.model}) from the facts listed; check them before acting`,
      source: 'claude',
    };
  }

  async summarise(kind: SummaryKind, facts: SummaryFacts | Record<string, unknown>): Promise<string> {
    return (await this.summariseWithNote(kind, facts)).text;
  }

  async reportProse(kind: SummaryKind, facts: Record<string, unknown>): Promise<string | undefined> {
    const s = await this.summariseWithNote(kind, facts);
    return s.source === 'claude' ? s.text : undefined;
  }

  async summariseWithNote(kind: SummaryKind, facts: SummaryFacts | Record<string, unknown>): Promise<Summary> {
    const fallback = deterministicSummary(kind, facts);
    const outcome = await this.guarded(() =>
      this.claude.useTool(kind, fillPrompt(this.prompts[kind], { facts: quoteData(formatSummaryFacts(facts)) }), SUMMARY_TOOL),
    );
    if (!outcome.ok) return { text: fallback, note: this.fallbackNote(outcome), source: 'rules' };
    const text = cleanModelText(outcome.value.text, kind === 'stakeholder' ? 800 : 2000);
    if (text.length === 0) return { text: fallback, note: `Claude's summary was empty: ${RULES}`, source: 'rules' };
    return { text, note: `Written by Claude (${this.claude.model}) from the recorded facts`, source: 'claude' };
  }
}
