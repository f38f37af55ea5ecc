// The deploy modal: the six questions (strategy, risk, SLO targets, DB migration, rollback
// tolerance, observation period) plus regression threshold, rollback on regression and
// guidance. Pure: answers in, a Slack view out; and the view's state back into answers.
import type { ViewsOpenArguments } from '@slack/web-api';
import { z } from 'zod';
import { ROLLBACK_TOLERANCES, type RiskLevel, type RollbackTolerance, type Strategy } from '../../domain/types.js';
import { context, option, plain, type Block } from './kit.js';
import { LIMITS, truncate } from './limits.js';

export const MODAL_CALLBACK = 'deploy_modal';

/** The builders produce plain Block Kit JSON (checked against Slack's limits); typed for the Web API client where it is sent. */
export type SlackView = ViewsOpenArguments['view'];
export const RISK_ACTION = 'risk';

/** What the modal shows and returns. Numbers are what a person types, in the units shown. */
export interface ModalAnswers {
  service?: string;
  version?: string;
  strategy: Strategy;
  risk: RiskLevel;
  errorRatePct: number;
  p99Ms: number;
  availabilityPct: number;
  dbMigration: boolean;
  rollbackTolerance: RollbackTolerance;
  observationMin: number;
  regressionThresholdPct: number;
  rollbackOnRegression: boolean;
  guidance: string;
}

/** Where the request came from, carried through the modal in private_metadata. */
export const ModalMetadata = z.object({
  channel: z.string(),
  threadTs: z.string(),
  /** The request reply's ts, to mark it as started. */
  replyTs: z.string().optional(),
  /** The understood request (without its guidance, which is a field of its own). */
  request: z.record(z.string(), z.unknown()),
  /** Ask for these in the modal: they were missing from the request. */
  ask: z.array(z.enum(['service', 'version'])).default([]),
  /** Why this strategy was recommended. */
  rationale: z.string().default(''),
});
export type ModalMetadata = z.infer<typeof ModalMetadata>;

export interface ModalInput {
  answers: ModalAnswers;
  /** Strategies this service allows (all, when the service is not known yet). */
  strategies: readonly Strategy[];
  /** Catalogue names, for the service question when the request had none. */
  services: string[];
  metadata: ModalMetadata;
}

const TOLERANCE_LABEL: Record<RollbackTolerance, string> = {
  instant: 'Instant (keep the old version ready)',
  minutes: 'Within minutes',
  manual: 'Manual is fine',
};

const yesNo = [option('Yes', 'yes'), option('No', 'no')];

function input(blockId: string, label: string, element: Record<string, unknown>, extra: Record<string, unknown> = {}): Block {
  return {
    type: 'input',
    block_id: blockId,
    label: plain(label, LIMITS.inputLabel),
    element: { action_id: fieldOf(blockId), ...element },
    ...extra,
  };
}

function numberInput(blockId: string, label: string, value: number, hint: string, decimal = true): Block {
  return input(
    blockId,
    label,
    { type: 'number_input', is_decimal_allowed: decimal, initial_value: String(value) },
    { hint: plain(hint, 2000) },
  );
}

function select(options: Array<ReturnType<typeof option>>, initial: string | undefined) {
  const init = options.find((o) => o.value === initial);
  return { type: 'static_select', options, ...(init ? { initial_option: init } : {}) };
}

/** Serialises metadata within Slack's 3000 characters, dropping the least useful parts first. */
export function encodeMetadata(m: ModalMetadata): string {
  let out = JSON.stringify(m);
  if (out.length <= LIMITS.privateMetadata) return out;
  const request = { ...m.request };
  for (const k of ['notes', 'suggestions', 'unknownService', 'guidance']) delete request[k];
  out = JSON.stringify({ ...m, request, rationale: truncate(m.rationale, 300) });
  if (out.length <= LIMITS.privateMetadata) return out;
  throw new Error(`modal metadata is ${out.length} characters, over Slack's ${LIMITS.privateMetadata}`);
}

export function decodeMetadata(raw: string): ModalMetadata | undefined {
  try {
    const parsed = ModalMetadata.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Fields whose defaults follow the risk level; their block ids carry the risk so Slack shows the new defaults. */
export const RISK_DEPENDENT = ['observationMin', 'regressionThresholdPct', 'rollbackTolerance'] as const;

const blockId = (key: string, risk: RiskLevel) => ((RISK_DEPENDENT as readonly string[]).includes(key) ? `${key}.${risk}` : key);

/** The field a block id stands for (`observationMin.high` → `observationMin`). */
export const fieldOf = (id: string) => id.split('.')[0]!;

export function deployModal({ answers: a, strategies, services, metadata }: ModalInput): Record<string, unknown> {
  const title = a.service ? `Deploy ${a.service}` : 'Deploy';
  const id = (key: string) => blockId(key, a.risk);
  const blocks: Block[] = [];
  const what = [a.service ?? '(service?)', a.version ?? '(version?)'].join(' ');
  blocks.push(context(`*${what}*${metadata.rationale ? ` · ${metadata.rationale}` : ''}`));
  if (metadata.ask.includes('service')) {
    blocks.push(
      input(
        'service',
        'Which service?',
        select(
          services.slice(0, 100).map((s) => option(s, s)),
          a.service,
        ),
      ),
    );
  }
  if (metadata.ask.includes('version')) {
    blocks.push(
      input('version', 'Which version (image tag)?', {
        type: 'plain_text_input',
        placeholder: plain('v1.2.3', 150),
        ...(a.version ? { initial_value: a.version } : {}),
      }),
    );
  }
  blocks.push(
    input(
      'strategy',
      '1. Strategy',
      select(
        strategies.map((s) => option(s, s)),
        a.strategy,
      ),
    ),
  );
  blocks.push(
    input(RISK_ACTION, '2. Risk level', select([option('Low', 'low'), option('Medium', 'medium'), option('High', 'high')], a.risk), {
      dispatch_action: true,
      hint: plain('Changing it updates the observation period, regression threshold and rollback speed below.', 2000),
    }),
  );
  blocks.push(numberInput('errorRatePct', '3a. SLO: maximum error rate (%)', a.errorRatePct, 'Percent of requests that may fail, e.g. 1'));
  blocks.push(numberInput('p99Ms', '3b. SLO: maximum p99 latency (ms)', a.p99Ms, 'Milliseconds, e.g. 400'));
  blocks.push(numberInput('availabilityPct', '3c. SLO: minimum availability (%)', a.availabilityPct, 'Percent, e.g. 99.9'));
  blocks.push(
    input('dbMigration', '4. Does this release run a database migration?', {
      type: 'radio_buttons',
      options: yesNo,
      initial_option: yesNo[a.dbMigration ? 0 : 1],
    }),
  );
  blocks.push(
    input(
      id('rollbackTolerance'),
      '5. How fast must a rollback be?',
      select(
        ROLLBACK_TOLERANCES.map((t) => option(TOLERANCE_LABEL[t], t)),
        a.rollbackTolerance,
      ),
    ),
  );
  blocks.push(
    numberInput(
      id('observationMin'),
      '6. Observation period after full rollout (minutes)',
      a.observationMin,
      'Minutes to watch before calling it a success',
      false,
    ),
  );
  blocks.push(
    numberInput(
      id('regressionThresholdPct'),
      'Regression threshold (%)',
      a.regressionThresholdPct,
      'How much worse than the baseline counts as a regression, in percent',
    ),
  );
  blocks.push(
    input('rollbackOnRegression', 'Roll back automatically on a regression?', {
      type: 'radio_buttons',
      options: yesNo,
      initial_option: yesNo[a.rollbackOnRegression ? 0 : 1],
    }),
  );
  blocks.push(
    input(
      'guidance',
      'Anything else Shipbot should know?',
      { type: 'plain_text_input', multiline: true, max_length: 2000, ...(a.guidance ? { initial_value: truncate(a.guidance, 2000) } : {}) },
      { optional: true },
    ),
  );
  return {
    type: 'modal',
    callback_id: MODAL_CALLBACK,
    title: plain(title, LIMITS.modalTitle),
    submit: plain('Start deploy', LIMITS.modalButton),
    close: plain('Cancel', LIMITS.modalButton),
    private_metadata: encodeMetadata(metadata),
    blocks,
  };
}

type StateValues = Record<string, Record<string, { type?: string; value?: string | null; selected_option?: { value: string } | null }>>;

/** The raw value of each field (text, or the selected option's value), by field name. */
export function readFields(values: StateValues): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [id, byAction] of Object.entries(values ?? {})) {
    const entry = Object.values(byAction)[0];
    if (!entry) continue;
    const v = entry.selected_option ? entry.selected_option.value : entry.value;
    out[fieldOf(id)] = v === null || v === undefined ? undefined : String(v).trim();
  }
  return out;
}

/** Field-keyed errors → keyed by the block ids the submitted view really has (Slack needs those). */
export function errorsForView(errors: Record<string, string>, values: StateValues): Record<string, string> {
  const ids = Object.keys(values ?? {});
  const out: Record<string, string> = {};
  for (const [field, message] of Object.entries(errors)) {
    const id = ids.find((i) => fieldOf(i) === field) ?? ids.find((i) => fieldOf(i) === 'guidance') ?? field;
    out[id] = out[id] ? `${out[id]} ${message}` : message;
  }
  return out;
}

export type { StateValues };
