// Bench plumbing: side-by-side ratios in one process are what we track; absolute timings on a
// shared 2-core machine are noise.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { ROOT, FIXTURES } from '../test/helpers.ts';

export { ROOT, FIXTURES };

export function writeResult(name: string, data: Record<string, unknown>): string {
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.json`);
  const body = { bench: name, date: new Date().toISOString(), machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version }, ...data };
  writeFileSync(path, JSON.stringify(body, null, 2) + '\n');
  console.log(`bench: wrote ${path}`);
  return path;
}

/** Alternates A and B rounds so drift in machine load hits both sides alike. */
export async function sideBySide(rounds: number, a: () => Promise<number>, b: () => Promise<number>): Promise<{ a: number; b: number; ratio: number }> {
  const as: number[] = [];
  const bs: number[] = [];
  for (let i = 0; i < rounds; i++) {
    as.push(await a());
    bs.push(await b());
  }
  const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const A = med(as);
  const B = med(bs);
  return { a: A, b: B, ratio: B / A };
}
