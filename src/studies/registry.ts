import { banditStudy } from './bandit/study.js';
import { fittingStudy } from './fitting/study.js';
import type { StudyKind } from './study-kind.js';
import { openBanditStudy, opeStudy } from './ope/study.js';
import { recommenderStudy } from './recommender/study.js';
import { slatesStudy } from './slates/study.js';
import { ultrStudy } from './ultr/study.js';

/**
 * Every study kind a scenario's `"study"` field can name. To add one, write a `StudyKind` adapter
 * in its own `study-<name>.ts` and add one line here; the runner, the grid, the worker threads, `--resume`, the tables, reports and `clicklab compare`
 * need no change.
 */
export const STUDY_KINDS: Readonly<Record<string, StudyKind>> = {
  ultr: ultrStudy,
  bandit: banditStudy,
  recommender: recommenderStudy,
  ope: opeStudy,
  'open-bandit': openBanditStudy,
  fitting: fittingStudy,
  slates: slatesStudy,
};
