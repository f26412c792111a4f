// Performers type short names: an address matches when it equals the name or ends with it at a
// segment boundary ("blend/all", "e1/amount", "z/speed").
import type { ParameterRegistry } from '../core/registry.ts';

export function findAddress(params: ParameterRegistry, name: string): string {
  if (params.has(name)) return name;
  const suffix = name.startsWith('/') ? name : '/' + name;
  const hits = params
    .list()
    .map((s) => s.address)
    .filter((a) => a.endsWith(suffix));
  if (hits.length === 1) return hits[0]!;
  if (hits.length > 1) throw new Error(`parameter "${name}" is ambiguous: ${hits.slice(0, 8).join(', ')}`);
  throw new Error(
    `no parameter "${name}"; parameters: ${params
      .list()
      .map((s) => s.address)
      .slice(0, 12)
      .join(', ')}...`,
  );
}
