/**
 * Progress of long work, on stderr. On a terminal it draws a live line per task (with an ETA) and
 * keeps each finished task's line; when stderr is not a terminal only `log` messages are written
 * (so piped output and CI logs stay short); when quiet, nothing.
 */
export interface Progress {
  /** Start a task of `total` units. */
  start(label: string, total: number): void;
  /** `done` units of the current task are finished; `detail` is a short status such as a loss. */
  update(done: number, detail?: string): void;
  /** The current task is finished. */
  finish(detail?: string): void;
  /** A one-off message (what backend was chosen, where results went). */
  log(message: string): void;
}

export const silentProgress: Progress = {
  start() {},
  update() {},
  finish() {},
  log() {},
};

export function stderrProgress(options: { quiet?: boolean } = {}): Progress {
  if (options.quiet) return silentProgress;
  const stream = process.stderr;
  const live = stream.isTTY === true;
  let label = '';
  let total = 0;
  let startedAt = 0;
  let lastDraw = 0;
  const line = (done: number, detail?: string): string => {
    const elapsed = (Date.now() - startedAt) / 1000;
    const fraction = total > 0 ? done / total : 0;
    const eta = fraction > 0 && fraction < 1 ? ` eta ${formatSeconds((elapsed / fraction) * (1 - fraction))}` : '';
    const pct = total > 0 ? `${(100 * fraction).toFixed(0).padStart(3)}%` : '';
    return `${label} ${pct} ${done}/${total} ${formatSeconds(elapsed)}${eta}${detail ? `  ${detail}` : ''}`;
  };
  return {
    start(l, t) {
      label = l;
      total = t;
      startedAt = Date.now();
      lastDraw = 0;
    },
    update(done, detail) {
      if (!live) return;
      const now = Date.now();
      if (now - lastDraw < 100 && done < total) return;
      lastDraw = now;
      stream.write(`\r\x1b[K${line(done, detail)}`);
    },
    finish(detail) {
      if (live) stream.write(`\r\x1b[K${line(total, detail)}\n`);
    },
    log(message) {
      stream.write(`${message}\n`);
    },
  };
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s - 60 * m)).padStart(2, '0')}s`;
}
