// Which execution provider `auto` means on this machine. A WebGPU adapter on a machine without a
// GPU is SwiftShader on the CPU: slower than the CPU EP, so auto only picks it with real hardware.
import { existsSync, readdirSync } from 'node:fs';
import type { EpName } from './protocol.ts';

function hasRenderNode(): boolean {
  try {
    return readdirSync('/dev/dri').some((f) => f.startsWith('renderD'));
  } catch {
    return false;
  }
}

export function autoCandidates(bundled: (ep: EpName) => boolean): EpName[] {
  const list: EpName[] = [];
  if (process.platform === 'darwin') list.push('coreml', 'webgpu');
  if (process.platform === 'win32') list.push('dml', 'webgpu');
  if (process.platform === 'linux') {
    if (existsSync('/dev/nvidia0') && bundled('cuda')) list.push('cuda');
    if (existsSync('/dev/nvidia0') || hasRenderNode()) list.push('webgpu');
  }
  return [...list.filter(bundled), 'cpu'];
}
