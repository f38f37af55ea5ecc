// The AnalysisRun an analysis step of a Rollout creates (rollout/analysis.go
// newAnalysisRunFromRollout): named `<rollout>-<hash>-<revision>-<step>`, labelled with the hash,
// `rollout-type: Step` and `step-index`, its metrics taken from the step's templates with their
// args substituted (`valueFrom.podTemplateHashValue` Stable / Latest resolved). A missing template
// is an Error run, as the controller reports it. Pure.
import type { KObject } from './objects.js';
import { ownedBy, ROLLOUT_HASH, type Step } from './rolloutShapes.js';

export function analysisRunFor(
  r: KObject,
  name: string,
  index: number,
  hash: string,
  stable: KObject,
  template: (name: string) => KObject | undefined,
): KObject {
  const ns = r.metadata.namespace;
  const step: Step = r.spec.strategy.canary.steps[index];
  const analysis = step.analysis as {
    templates?: Array<{ templateName?: string }>;
    args?: Array<{ name: string; value?: string; valueFrom?: { podTemplateHashValue?: string } }>;
  };
  const templates = (analysis.templates ?? []).map((t) => template(t.templateName ?? ''));
  const missing = (analysis.templates ?? []).find((_t, i) => !templates[i]);
  const args = new Map<string, string>();
  for (const t of templates) for (const a of t?.spec?.args ?? []) if (a.value !== undefined) args.set(a.name, a.value);
  for (const a of analysis.args ?? []) {
    const from = a.valueFrom?.podTemplateHashValue;
    const v = from === 'Stable' ? stable.metadata.labels?.[ROLLOUT_HASH] : from === 'Latest' ? hash : a.value;
    if (v !== undefined) args.set(a.name, v);
  }
  const metrics = JSON.parse(
    JSON.stringify(templates.flatMap((t) => t?.spec?.metrics ?? [])).replace(
      /\{\{\s*args\.([\w-]+)\s*\}\}/g,
      (m, k: string) => args.get(k) ?? m,
    ),
  );
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AnalysisRun',
    metadata: {
      name,
      namespace: ns,
      labels: { [ROLLOUT_HASH]: hash, 'rollout-type': 'Step', 'step-index': String(index) },
      ownerReferences: [ownedBy(r)],
    },
    spec: { metrics, args: [...args].map(([n, value]) => ({ name: n, value })) },
    ...(missing ? { status: { phase: 'Error', message: `AnalysisTemplate "${missing.templateName}" not found` } } : {}),
  };
}
