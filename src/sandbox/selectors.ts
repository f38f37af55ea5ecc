// Label and field selectors, parsed from query strings (`app=checkout,track in (canary,stable)`)
// or from a LabelSelector object (Deployments, ReplicaSets). Pure functions.
import { badRequest } from './errors.js';
import type { KObject } from './objects.js';

export type Requirement =
  | { key: string; op: '=' | '!='; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | '!exists' };

export type Selector = Requirement[];

/** Splits on commas that are not inside `( … )`. */
function splitTerms(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((t) => t.trim()).filter((t) => t.length > 0);
}

const KEY = /^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$/;

export function parseLabelSelector(text: string | undefined | null): Selector {
  if (!text) return [];
  return splitTerms(text).map((term) => {
    let m = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(term);
    if (m) {
      const values = m[3]!
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v.length > 0);
      return checkKey({ key: m[1]!, op: m[2] as 'in' | 'notin', values }, text);
    }
    m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
    if (m) return checkKey({ key: m[1]!, op: m[2] === '!=' ? '!=' : '=', value: m[3]! }, text);
    m = /^!\s*(\S+)$/.exec(term);
    if (m) return checkKey({ key: m[1]!, op: '!exists' }, text);
    if (KEY.test(term)) return { key: term, op: 'exists' };
    throw badRequest(`unable to parse requirement: ${JSON.stringify(term)} in selector ${JSON.stringify(text)}`);
  });
}

function checkKey<R extends Requirement>(r: R, text: string): R {
  if (!KEY.test(r.key)) throw badRequest(`invalid label key ${JSON.stringify(r.key)} in selector ${JSON.stringify(text)}`);
  return r;
}

export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

/** A Deployment/ReplicaSet `spec.selector`. An empty selector matches nothing here, as for workloads. */
export function fromLabelSelector(sel: LabelSelectorObject | undefined): Selector {
  const out: Selector = [];
  for (const [key, value] of Object.entries(sel?.matchLabels ?? {})) out.push({ key, op: '=', value });
  for (const e of sel?.matchExpressions ?? []) {
    const op = e.operator;
    if (op === 'In') out.push({ key: e.key, op: 'in', values: e.values ?? [] });
    else if (op === 'NotIn') out.push({ key: e.key, op: 'notin', values: e.values ?? [] });
    else if (op === 'Exists') out.push({ key: e.key, op: 'exists' });
    else if (op === 'DoesNotExist') out.push({ key: e.key, op: '!exists' });
  }
  return out;
}

/** `app=checkout,track=stable`: how kubectl and the Scale subresource print a selector. */
export function formatSelector(sel: Selector): string {
  return sel
    .map((r) => {
      switch (r.op) {
        case '=':
        case '!=':
          return `${r.key}${r.op}${r.value}`;
        case 'in':
        case 'notin':
          return `${r.key} ${r.op} (${r.values.join(',')})`;
        case 'exists':
          return r.key;
        case '!exists':
          return `!${r.key}`;
      }
    })
    .join(',');
}

export function matches(sel: Selector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return sel.every((r) => {
    const has = Object.hasOwn(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case '=':
        return has && v === r.value;
      case '!=':
        return !has || v !== r.value;
      case 'in':
        return has && r.values.includes(v!);
      case 'notin':
        return !has || !r.values.includes(v!);
      case 'exists':
        return has;
      case '!exists':
        return !has;
    }
  });
}

/** A Service's `spec.selector` map: matches when every pair is present. Empty matches nothing. */
export function matchesMap(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  const l = labels ?? {};
  return Object.entries(selector).every(([k, v]) => l[k] === v);
}

export type FieldRequirement = { path: string[]; op: '=' | '!='; value: string };

/** `metadata.name=checkout,status.phase!=Running`: equality on any dotted field. */
export function parseFieldSelector(text: string | undefined | null): FieldRequirement[] {
  if (!text) return [];
  return splitTerms(text).map((term) => {
    const m = /^([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw badRequest(`invalid field selector ${JSON.stringify(term)}: use field=value or field!=value`);
    return { path: m[1]!.split('.'), op: m[2] === '!=' ? '!=' : '=', value: m[3]! };
  });
}

export function matchesFields(reqs: FieldRequirement[], obj: KObject): boolean {
  return reqs.every((r) => {
    let cur: unknown = obj;
    for (const seg of r.path) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[seg] : undefined;
    const v = cur === undefined || cur === null ? '' : String(cur);
    return r.op === '=' ? v === r.value : v !== r.value;
  });
}
