import { CLICK_MODEL_SIMULATORS as SIMULATE, type ClickModelSimulator, type ClickModelType } from '../simulation/click-models/index.js';
import { ccmFitter } from './ccm.js';
import { cascadeFitter } from './cm.js';
import { dbnFitter, sdbnFitter } from './dbn.js';
import { dcmFitter } from './dcm.js';
import type { ClickModelFitter, FittableClickModel } from './model.js';
import { pbmFitter } from './pbm.js';
import { ubmFitter } from './ubm.js';

/**
 * One click model: how clicklab simulates it from a scenario's spec (`createClickModel`) and how
 * it fits it by EM (`fitClickModel`) and restores a fitted one (`FittedWorld.fromJSON`). A model
 * has either or both; a fitted model also simulates from its fitted parameters
 * (`FittableClickModel.simulator`), so `sdbn` and `ccm` need no spec simulator.
 */
export interface ClickModelEntry {
  /** Absent: the model is fitted only. */
  readonly simulator?: ClickModelSimulator;
  /** Absent: the model is simulated only. Its `name` is the model's own, except the cascade's (PyClick's `cm`). */
  readonly fitter?: ClickModelFitter;
}

/**
 * The click models, by name: each line holds the model's simulator and its fitter side by side.
 * Names are those of a click-model spec's `type` (simulation) and of the fitted models (`clicklab
 * fit --model`, a fitting study's `models`, saved worlds' `model`), with one alias: the cascade
 * model is simulated as `cascade` and fitted as `cm`, PyClick's name, which every fitting scenario,
 * fitted world and report uses (`fittedModelName` also accepts `cascade` there).
 *
 * To add a click model: write its simulator in src/simulation/click-models/ (the class, its spec in
 * `ClickModelSpec` and its line in `CLICK_MODEL_SIMULATORS`) and/or its fitter in src/fitting/ (a
 * `FittableClickModel` and its `ClickModelFitter`), then add its one line here. The type below
 * rejects a simulator that is missing here or listed under another name. The order is that of
 * `FITTED_MODEL_TYPES` (a fitting study's default `models`).
 */
export const CLICK_MODELS = {
  pbm: { simulator: SIMULATE.pbm, fitter: pbmFitter },
  cascade: { simulator: SIMULATE.cascade, fitter: cascadeFitter }, // fitted as `cm`
  dcm: { simulator: SIMULATE.dcm, fitter: dcmFitter },
  dbn: { simulator: SIMULATE.dbn, fitter: dbnFitter },
  sdbn: { fitter: sdbnFitter },
  ubm: { simulator: SIMULATE.ubm, fitter: ubmFitter },
  ccm: { fitter: ccmFitter },
  'trust-bias': { simulator: SIMULATE['trust-bias'] },
  mnl: { simulator: SIMULATE.mnl },
} as const satisfies { readonly [T in ClickModelType]: ClickModelEntry & { readonly simulator: (typeof SIMULATE)[T] } } & Readonly<Record<string, ClickModelEntry>>;

type Registry = typeof CLICK_MODELS;
/** Every click model's name. */
export type ClickModelName = keyof Registry;
/** The name each fittable click model is fitted under. */
export type FittedModelType = { [K in ClickModelName]: Registry[K] extends { readonly fitter: ClickModelFitter<infer N> } ? N : never }[ClickModelName];
/** A fitted click model (`fitClickModel`, `FittedWorld`), its `type` one of `FITTED_MODEL_TYPES`. */
export type FittedClickModel = FittableClickModel & { readonly type: FittedModelType };

/** The keys whose fitter is fitted under another name; only the cascade's alias `cm` is allowed (the statement below fails to compile otherwise). */
type MisnamedFitters = {
  [K in ClickModelName]: Registry[K] extends { readonly fitter: ClickModelFitter<infer N> } ? (N extends K ? never : [K, N] extends ['cascade', 'cm'] ? never : K) : never;
}[ClickModelName];
true satisfies [MisnamedFitters] extends [never] ? true : never;

const ENTRIES = Object.entries(CLICK_MODELS) as [ClickModelName, ClickModelEntry][];

/** The fittable click models, in the registry's order: pbm, cm, dcm, dbn, sdbn, ubm, ccm. */
export const FITTED_MODEL_TYPES = ENTRIES.flatMap(([, entry]) => (entry.fitter ? [entry.fitter.name] : [])) as readonly FittedModelType[];

const FITTERS = new Map(ENTRIES.flatMap(([, entry]) => (entry.fitter ? [[entry.fitter.name, entry.fitter as ClickModelFitter<FittedModelType>] as const] : [])));

/** The fitter of a fitted name (undefined for any other string). */
export function fitterOf(type: string): ClickModelFitter<FittedModelType> | undefined {
  return FITTERS.get(type as FittedModelType);
}

/** The fitted name of `name`, which may also be the model's own name where it is fitted under another (`cascade` → `cm`); other values unchanged. */
export function fittedModelName<T>(name: T): T | FittedModelType {
  if (typeof name !== 'string' || !Object.hasOwn(CLICK_MODELS, name)) return name;
  const fitter: ClickModelFitter | undefined = (CLICK_MODELS[name as ClickModelName] as ClickModelEntry).fitter;
  return fitter ? (fitter.name as FittedModelType) : name;
}
