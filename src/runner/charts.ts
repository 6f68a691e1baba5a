import { formatValue, type Experiment } from './experiment.js';
import type { ChartRequest } from '../studies/study-kind.js';
import type { SummaryRow } from './experiment-results.js';

/**
 * Render a vega-lite spec to SVG in Node (vega-lite → vega → a headless view). vega is loaded on
 * first use: its canvas probe is a top-level await, which would stop CommonJS hosts such as the
 * tslab notebook kernel from loading clicklab at all.
 */
export async function renderSvg(spec: Record<string, unknown>): Promise<string> {
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = vegaLite.compile({ $schema: 'https://vega.github.io/schema/vega-lite/v6.json', background: 'white', ...spec } as Parameters<typeof vegaLite.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * The charts every study gets: the primary metric against each grid axis, one line per method with
 * its 95% interval over seeds (faceted by the other axes); without a grid, one bar per method.
 */
export function metricCharts(experiment: Experiment, summary: readonly SummaryRow[]): ChartRequest[] {
  const metric = experiment.primaryMetric.name;
  const rows = summary.filter((r) => r.metric === metric);
  const band = { mark: { type: 'errorbar', ticks: true }, encoding: { y: { field: 'lo', type: 'quantitative', scale: { zero: false }, title: metric }, y2: { field: 'hi' } } };
  if (experiment.grid.length === 0) {
    return [
      {
        name: `${safe(metric)}-by-method`,
        title: `${metric} per method`,
        caption: `Mean ${metric} over ${experiment.seeds.length} seeds with its 95% t-interval.`,
        spec: {
          data: { values: rows.map((r) => ({ method: r.method, mean: r.mean, lo: r.mean - r.ci95, hi: r.mean + r.ci95 })) },
          // A band per method wide enough for its label; vega-lite's default step (20 px) makes a sliver.
          width: { step: 70 },
          height: 240,
          encoding: { x: { field: 'method', type: 'nominal', sort: null, title: null }, color: { field: 'method', type: 'nominal', sort: null, legend: null } },
          layer: [
            { mark: { type: 'point', filled: true, size: 60 }, encoding: { y: { field: 'mean', type: 'quantitative', scale: { zero: false }, title: metric } } },
            { ...band, mark: { type: 'errorbar', ticks: { size: 14 } } },
          ],
        },
      },
    ];
  }
  return experiment.grid.map((axis) => {
    const others = experiment.grid.filter((g) => g !== axis);
    const values = rows.map((r) => ({
      x: formatValue(r.params[axis.path]),
      method: r.method,
      mean: r.mean,
      lo: r.mean - r.ci95,
      hi: r.mean + r.ci95,
      facet: others.map((g) => `${g.path}=${formatValue(r.params[g.path])}`).join(', '),
    }));
    const layered = {
      encoding: {
        // Grid values are few and discrete: an ordinal axis in grid order, methods dodged so their intervals do not overlap.
        x: { field: 'x', type: 'ordinal', sort: null, title: axis.path, axis: { labelAngle: 0 } },
        xOffset: { field: 'method', type: 'nominal', sort: null },
        color: { field: 'method', type: 'nominal', sort: null, title: null },
      },
      layer: [{ mark: { type: 'point', filled: true, size: 50 }, encoding: { y: { field: 'mean', type: 'quantitative', scale: { zero: false }, title: metric } } }, band],
    };
    return {
      name: `${safe(metric)}-vs-${safe(axis.path)}`,
      title: `${metric} against ${axis.path}`,
      caption: `Mean ${metric} over ${experiment.seeds.length} seeds per method, with 95% t-intervals, at each value of ${axis.path}${others.length > 0 ? ` (one panel per value of ${others.map((g) => g.path).join(', ')})` : ''}.`,
      spec:
        others.length > 0
          ? { data: { values }, facet: { field: 'facet', type: 'nominal', sort: null, title: null }, columns: 3, spec: { width: 260, height: 200, ...layered } }
          : { data: { values }, width: 360, height: 240, ...layered },
    };
  });
}

function safe(text: string): string {
  return text.replace(/[^\w.-]+/g, '_');
}
