import { REFINEMENT_FEATURES, type RefinementModel, refinementProbability } from './refinements.js';

/** One user turn of an annotated conversation: its features and whether it starts an episode. */
export interface RefinementExample {
  group: string;
  features: readonly number[];
  label: 0 | 1;
}

export interface FitOptions {
  /** L2 penalty on the weights (not the bias). */
  l2?: number;
  iterations?: number;
  learningRate?: number;
}

const DEFAULTS = { l2: 0.01, iterations: 3000, learningRate: 0.5 } as const;

/**
 * Logistic regression by full-batch gradient descent: deterministic (no sampling, zero start), so
 * the same examples always give the same model. The threshold is the one that maximises F1 on the
 * training examples.
 */
export function fitRefinementModel(examples: readonly RefinementExample[], options: FitOptions = {}): RefinementModel {
  const { l2, iterations, learningRate } = { ...DEFAULTS, ...options };
  const dims = REFINEMENT_FEATURES.length;
  const weights = new Array<number>(dims).fill(0);
  let bias = 0;
  const n = Math.max(1, examples.length);
  for (let step = 0; step < iterations; step++) {
    const gradient = new Array<number>(dims).fill(0);
    let gradientBias = 0;
    for (const example of examples) {
      const error =
        refinementProbability({ features: REFINEMENT_FEATURES, weights, bias, threshold: 0.5 }, example.features) - example.label;
      example.features.forEach((x, k) => {
        gradient[k] = (gradient[k] ?? 0) + error * x;
      });
      gradientBias += error;
    }
    for (let k = 0; k < dims; k++) weights[k] = (weights[k] ?? 0) - learningRate * ((gradient[k] ?? 0) / n + l2 * (weights[k] ?? 0));
    bias -= learningRate * (gradientBias / n);
  }
  const model: RefinementModel = {
    features: [...REFINEMENT_FEATURES],
    weights: weights.map((w) => Math.round(w * 1e4) / 1e4),
    bias: Math.round(bias * 1e4) / 1e4,
    threshold: 0.5,
  };
  model.threshold = bestThreshold(model, examples);
  return model;
}

/** The probability cut that maximises F1 on the examples (ties: the higher cut, fewer false alarms). */
function bestThreshold(model: RefinementModel, examples: readonly RefinementExample[]): number {
  let best = { f1: -1, threshold: 0.5 };
  for (let t = 0.2; t <= 0.8 + 1e-9; t += 0.05) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (const example of examples) {
      const fired = refinementProbability(model, example.features) >= t;
      if (fired && example.label) tp++;
      else if (fired) fp++;
      else if (example.label) fn++;
    }
    const f1 = tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
    if (f1 >= best.f1) best = { f1, threshold: Math.round(t * 100) / 100 };
  }
  return best.threshold;
}
