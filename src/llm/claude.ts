// Thin adapter over @anthropic-ai/sdk: one forced tool call per question (`auto` for models that
// refuse forcing), a per-attempt timeout, bounded retries, an overall budget, and zod validation
// of the tool input. It never throws: every failure comes back as a typed outcome the caller
// turns into a deterministic fallback.
import Anthropic from '@anthropic-ai/sdk';
import { z } from 'zod';
import type { Logger } from '../log.js';
import type { FilledPrompt } from './prompts.js';

export interface ClaudeOptions {
  apiKey: string;
  baseURL?: string;
  model: string;
  /** Per attempt. */
  timeoutMs: number;
  /** Retries after the first attempt (timeouts, 429, 5xx, 529 overloaded). */
  maxRetries: number;
  /** The whole call including retries and back-off; past it we give up. */
  budgetMs: number;
  maxTokens: number;
  log: Logger;
}

export interface ToolSpec<T> {
  name: string;
  description: string;
  schema: z.ZodType<T>;
}

export type FailureKind = 'timeout' | 'overloaded' | 'rate-limited' | 'api-error' | 'connection' | 'invalid-output' | 'no-tool-call';

export type ClaudeOutcome<T> = { ok: true; value: T } | { ok: false; kind: FailureKind; reason: string };

/** JSON Schema for a tool's input, from the same zod schema that validates the answer. */
export function toolInputSchema(schema: z.ZodType): Anthropic.Tool.InputSchema {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return json as Anthropic.Tool.InputSchema;
}

const seconds = (ms: number) => `${ms >= 10_000 ? Math.round(ms / 1000) : Number((ms / 1000).toFixed(1))} s`;

/** Readable one-liner for the person, from whatever the SDK threw. */
export function describeFailure(err: unknown, timeoutMs: number, budgetMs: number): { kind: FailureKind; reason: string } {
  if (err instanceof Anthropic.APIConnectionTimeoutError) {
    return { kind: 'timeout', reason: `Claude did not answer within ${seconds(timeoutMs)}` };
  }
  if (err instanceof Anthropic.APIUserAbortError) {
    return { kind: 'timeout', reason: `Claude did not answer within the ${seconds(budgetMs)} budget` };
  }
  if (err instanceof Anthropic.APIError && err.status !== undefined) {
    if (err.status === 529) return { kind: 'overloaded', reason: 'Claude is overloaded (529)' };
    if (err.status === 429) return { kind: 'rate-limited', reason: 'Claude rate-limited the request (429)' };
    if (err.status === 401 || err.status === 403) {
      return { kind: 'api-error', reason: `Claude refused the API key (${err.status}); check ANTHROPIC_API_KEY` };
    }
    return { kind: 'api-error', reason: `Claude answered with HTTP ${err.status}` };
  }
  if (err instanceof Anthropic.APIConnectionError) {
    return { kind: 'connection', reason: 'could not reach Claude (connection error); check ANTHROPIC_BASE_URL and the network' };
  }
  if (err instanceof SyntaxError) return { kind: 'invalid-output', reason: 'Claude sent a response that is not valid JSON' };
  return { kind: 'api-error', reason: `Claude call failed: ${err instanceof Error ? err.message : String(err)}` };
}

function summariseIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`)
    .join('; ');
}

/** The SDK's own logging goes into our pino (which redacts); it already hides x-api-key. */
function sdkLogger(log: Logger) {
  const at =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (message: string, ...rest: unknown[]) =>
      log[level]({ sdk: rest.length > 0 ? rest : undefined }, message);
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Newer models answer a forced tool choice with a 400 naming `tool_choice`; they get `auto` instead. */
function rejectsForcedToolChoice(err: unknown): boolean {
  return err instanceof Anthropic.BadRequestError && /tool_choice/.test(err.message);
}

export class Claude {
  private readonly client: Anthropic;
  /** Cleared for good once the model refuses a forced tool choice. */
  private forceTool = true;

  constructor(private readonly opts: ClaudeOptions) {
    this.client = new Anthropic({
      apiKey: opts.apiKey,
      // Explicit: the SDK would otherwise read ANTHROPIC_BASE_URL itself; we read env once in config.
      baseURL: opts.baseURL ?? 'https://api.anthropic.com',
      timeout: opts.timeoutMs,
      maxRetries: opts.maxRetries,
      logger: sdkLogger(opts.log),
      logLevel: 'warn',
    });
  }

  get model(): string {
    return this.opts.model;
  }

  /** Asks one question and forces the answer through `tool`; validates it with the tool's schema. */
  async useTool<T>(use: string, prompt: FilledPrompt, tool: ToolSpec<T>): Promise<ClaudeOutcome<T>> {
    const started = Date.now();
    const log = this.opts.log.child({ llm: use, model: this.opts.model });
    const outcome = await this.call(prompt, tool);
    const ms = Date.now() - started;
    if (outcome.ok) log.info({ ms }, 'Claude answered');
    else log.warn({ ms, kind: outcome.kind }, `Claude not used: ${outcome.reason}`);
    return outcome;
  }

  private async call<T>(prompt: FilledPrompt, tool: ToolSpec<T>): Promise<ClaudeOutcome<T>> {
    let message: Anthropic.Message;
    const signal = AbortSignal.timeout(this.opts.budgetMs);
    const create = () =>
      this.client.messages.create(
        {
          model: this.opts.model,
          max_tokens: this.opts.maxTokens,
          system: prompt.system,
          messages: [{ role: 'user', content: prompt.user }],
          tools: [{ name: tool.name, description: tool.description, input_schema: toolInputSchema(tool.schema) }],
          tool_choice: this.forceTool
            ? { type: 'tool', name: tool.name, disable_parallel_tool_use: true }
            : { type: 'auto', disable_parallel_tool_use: true },
        },
        { signal },
      );
    try {
      message = await create().catch((err: unknown) => {
        if (!this.forceTool || !rejectsForcedToolChoice(err)) throw err;
        this.forceTool = false;
        this.opts.log.info({ model: this.opts.model }, 'model refuses a forced tool choice; asking with tool_choice auto from now on');
        return create();
      });
    } catch (err) {
      return { ok: false, ...describeFailure(err, this.opts.timeoutMs, this.opts.budgetMs) };
    }
    const content = Array.isArray(message?.content) ? message.content : [];
    const block = content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use' && b.name === tool.name);
    if (!block) {
      return {
        ok: false,
        kind: 'no-tool-call',
        reason: `Claude did not call ${tool.name} (stop reason: ${message?.stop_reason ?? 'unknown'})`,
      };
    }
    let input: unknown = block.input;
    // The API sends an object; a string here is a partial or broken JSON document.
    if (typeof input === 'string') {
      try {
        input = JSON.parse(input);
      } catch {
        return { ok: false, kind: 'invalid-output', reason: `Claude's ${tool.name} answer is not valid JSON` };
      }
    }
    const parsed = tool.schema.safeParse(input);
    if (!parsed.success) {
      return {
        ok: false,
        kind: 'invalid-output',
        reason: `Claude's ${tool.name} answer did not validate (${summariseIssues(parsed.error)})`,
      };
    }
    return { ok: true, value: parsed.data };
  }
}
