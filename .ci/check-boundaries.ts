// Folder boundaries that no linter checks here: cycles between app folders, the engine core's
// and the UI's forbidden imports on resolved paths, and the single onnxruntime importer.
// Usage: node --import tsx .ci/check-boundaries.ts [root]   (root defaults to the repository)
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importGraph } from './boundaries/graph.ts';
import { checkRules, type Violation } from './boundaries/rules.ts';

export function checkBoundaries(root: string): { files: number; edges: number; violations: Violation[] } {
  const { files, edges } = importGraph(root);
  return { files: files.length, edges: edges.length, violations: checkRules(edges) };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(process.argv[2] ?? fileURLToPath(new URL('..', import.meta.url)));
  const { files, edges, violations } = checkBoundaries(root);
  if (violations.length === 0) {
    console.log(`boundaries: ok (${files} files, ${edges} imports)`);
  } else {
    console.error(`boundaries: ${violations.length} violation(s) in ${files} files:`);
    for (const v of violations) console.error(`  [${v.rule}] ${v.message}`);
    process.exitCode = 1;
  }
}
