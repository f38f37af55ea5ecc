// The regression gate: did the candidate pass fewer tests than the baseline, by more than the
// threshold? rate = (baseline_pass − candidate_pass) / baseline_pass × 100.
// No baseline data, or a baseline that passed nothing, is inconclusive — never a pass.

/** Test results of one version. `total` turns counts into pass rates when suites differ in size. */
export interface TestCounts {
  passed: number;
  total?: number;
}

export type RegressionVerdict = 'pass' | 'fail' | 'inconclusive';

export interface RegressionResult {
  verdict: RegressionVerdict;
  /** Regression in percent; negative means the candidate passed more. Absent when inconclusive. */
  ratePct?: number;
  thresholdPct: number;
  /** One line a person reads in Slack. */
  explanation: string;
}

/** Pass measure of one run: the pass rate when the total is known, the pass count otherwise. */
function passMeasure(c: TestCounts): number {
  return c.total !== undefined && c.total > 0 ? c.passed / c.total : c.passed;
}

/** `(baseline − candidate) / baseline × 100`, or undefined when the baseline passed nothing. */
export function regressionRate(baselinePass: number, candidatePass: number): number | undefined {
  if (!(baselinePass > 0) || !Number.isFinite(candidatePass)) return undefined;
  return ((baselinePass - candidatePass) / baselinePass) * 100;
}

const round = (n: number) => Math.round(n * 100) / 100;

function valid(c: TestCounts | null | undefined): c is TestCounts {
  return !!c && Number.isFinite(c.passed) && c.passed >= 0 && (c.total === undefined || (Number.isFinite(c.total) && c.total >= c.passed));
}

export function regressionGate(
  baseline: TestCounts | null | undefined,
  candidate: TestCounts | null | undefined,
  thresholdPct: number,
): RegressionResult {
  const inconclusive = (why: string): RegressionResult => ({
    verdict: 'inconclusive',
    thresholdPct,
    explanation: `Regression gate inconclusive: ${why}.`,
  });
  if (!valid(baseline)) return inconclusive('no baseline test results to compare with');
  if (!valid(candidate)) return inconclusive('no test results for the new version');
  if (candidate.total === 0) return inconclusive('the new version ran no tests');
  if (baseline.total === 0) return inconclusive('the baseline ran no tests');
  const rate = regressionRate(passMeasure(baseline), passMeasure(candidate));
  if (rate === undefined) return inconclusive('the baseline passed no tests, so there is nothing to regress from');

  const shown = round(rate);
  const counts = `${candidate.passed}${candidate.total !== undefined ? `/${candidate.total}` : ''} passed vs ${baseline.passed}${baseline.total !== undefined ? `/${baseline.total}` : ''} on the baseline`;
  // A tiny epsilon so 2.0000000001% from float division does not fail a 2% threshold.
  if (rate <= thresholdPct + 1e-9) {
    const what = rate <= 0 ? 'no regression' : `${shown}% regression`;
    return {
      verdict: 'pass',
      ratePct: rate,
      thresholdPct,
      explanation: `Regression gate passed: ${what} (${counts}), threshold ${thresholdPct}%.`,
    };
  }
  return {
    verdict: 'fail',
    ratePct: rate,
    thresholdPct,
    explanation: `Regression gate failed: ${shown}% regression (${counts}) exceeds the ${thresholdPct}% threshold.`,
  };
}
