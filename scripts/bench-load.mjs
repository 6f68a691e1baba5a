// The load average (1, 5, 15 min) as the bench scripts print it beside their figures: the 2 cores are shared.
import { loadavg } from 'node:os';

export const load = () =>
  loadavg()
    .map((v) => v.toFixed(2))
    .join(' ');
