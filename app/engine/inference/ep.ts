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

/** What `auto` looks at on this machine: injected so the choice can be checked for other machines. */
export interface EpProbe {
  platform: NodeJS.Platform;
  /** An NVIDIA device node (the driver is loaded). */
  nvidia: boolean;
  /** A DRM render node (a GPU WebGPU can use through Vulkan). */
  renderNode: boolean;
  /** TensorRT's runtime library on the loader's path (the EP itself comes with `npm run install:cuda`). */
  tensorRt: boolean;
}

const LIB_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib', '/usr/local/cuda/lib64', '/usr/local/tensorrt/lib'];

function hasLibrary(prefix: string): boolean {
  const dirs = [...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), ...LIB_DIRS];
  return dirs.some((d) => {
    try {
      return readdirSync(d).some((f) => f.startsWith(prefix));
    } catch {
      return false;
    }
  });
}

export function systemProbe(): EpProbe {
  const nvidia = existsSync('/dev/nvidia0');
  return { platform: process.platform, nvidia, renderNode: hasRenderNode(), tensorRt: nvidia && hasLibrary('libnvinfer.so') };
}

/**
 * The providers `auto` tries, best first, then the CPU: TensorRT then CUDA on an NVIDIA GPU where
 * their libraries are installed, DirectML on Windows, CoreML on macOS, WebGPU on real GPU hardware.
 */
export function autoCandidates(bundled: (ep: EpName) => boolean, probe: EpProbe = systemProbe()): EpName[] {
  const list: EpName[] = [];
  if (probe.platform === 'darwin') list.push('coreml', 'webgpu');
  if (probe.platform === 'win32') list.push('dml', 'webgpu');
  if (probe.platform === 'linux') {
    if (probe.nvidia && probe.tensorRt) list.push('tensorrt');
    if (probe.nvidia) list.push('cuda');
    if (probe.nvidia || probe.renderNode) list.push('webgpu');
  }
  return [...list.filter(bundled), 'cpu'];
}
