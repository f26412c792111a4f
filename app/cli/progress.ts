// A progress bar with ETA on a terminal; silent when stderr is a pipe (CI logs, tests).
import cliProgress from 'cli-progress';

export function progress(total: number, unit: string): { tick(): void; done(): void } {
  if (!process.stderr.isTTY) return { tick() {}, done() {} };
  const bar = new cliProgress.SingleBar({ format: ` {bar} {value}/{total} ${unit}  {percentage}%  ETA {eta_formatted}`, stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic);
  bar.start(total, 0);
  return { tick: () => bar.increment(), done: () => bar.stop() };
}
