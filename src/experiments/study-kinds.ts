import { banditStudy } from './study-bandit.js';
import type { StudyKind } from './study-kind.js';
import { ultrStudy } from './study-ultr.js';

/**
 * Every study kind a scenario's `"study"` field can name. To add one (recommender learners via
 * `runRecommenderComparison`, off-policy estimators via `runEstimatorComparison`, click-model
 * fitting), write a `StudyKind` adapter in its own `study-<name>.ts` and add one line here; the
 * runner, the grid, the worker threads, `--resume`, the tables, reports and `clicklab compare`
 * need no change.
 */
export const STUDY_KINDS: Readonly<Record<string, StudyKind>> = {
  ultr: ultrStudy,
  bandit: banditStudy,
};
