# PyTorch beside netbend on the GPU machine (issue 16): the StyleGAN2 that models/make-stylegan2.ts
# builds, rebuilt in PyTorch with the very weights of its ONNX file (read by name), checked against
# onnxruntime on the CPU (max abs difference of the picture), then timed two ways: eager, one
# forward a frame (the TouchDesigner script's way), and a CUDA-graph replay (the practical limit).
#   python3 bench/gpu_torch.py /tmp/netbend-gpu-models/stylegan2-256.onnx [...] --out bench/results/gpu-torch.json
# Needs torch, onnx, onnxruntime and numpy (all on the device machine's image).
import argparse, json, math, os, platform, subprocess, time

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn.functional as F
from onnx import numpy_helper

SQRT2 = math.sqrt(2)


def weights(path, device):
    m = onnx.load(path)
    return {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()).to(device) for t in m.graph.initializer if t.name.startswith('G.')}


class StyleGan2:
    """The graph make-stylegan2.ts writes, op for op (channels and depth read from the weights)."""

    def __init__(self, w):
        self.w = w
        self.res = [int(k.split('.')[2][1:]) for k in w if k.endswith('.torgb.weight')]
        self.res.sort()
        self.mapping = sorted(int(k.split('.')[2][2:]) for k in w if k.startswith('G.mapping.fc') and k.endswith('.weight'))
        self.blurs = {}

    def blur(self, ch, device):
        if ch not in self.blurs:
            f = torch.tensor([1.0, 3.0, 3.0, 1.0], device=device)
            k = torch.outer(f, f) * 4 / 64
            self.blurs[ch] = k.expand(ch, 1, 4, 4).contiguous()
        return self.blurs[ch]

    def styles(self, scope, wv):
        return F.linear(wv, self.w[f'{scope}.affine.weight'], self.w[f'{scope}.affine.bias'])

    def layer(self, scope, x, wv, up):
        weight = self.w[f'{scope}.weight']
        cout, cin = weight.shape[0], weight.shape[1]
        s4 = self.styles(scope, wv).reshape(1, cin, 1, 1)
        dcoefs = torch.reciprocal(torch.sqrt((weight * s4).pow(2).sum(dim=[1, 2, 3]) + 1e-8)).reshape(1, cout, 1, 1)
        xs = x * s4
        if up:
            t = F.conv_transpose2d(xs, weight.transpose(0, 1), stride=2)
            y = F.conv2d(t, self.blur(cout, x.device), groups=cout, padding=1)
        else:
            y = F.conv2d(xs, weight, padding=1)
        y = y * dcoefs
        y = y + self.w[f'{scope}.noise_const'] * self.w[f'{scope}.noise_strength']
        y = y + self.w[f'{scope}.bias'].reshape(1, cout, 1, 1)
        return F.leaky_relu(y, 0.2) * SQRT2

    def torgb(self, scope, x, wv):
        weight = self.w[f'{scope}.weight']
        s4 = self.styles(scope, wv).reshape(1, weight.shape[1], 1, 1)
        return F.conv2d(x * s4, weight, self.w[f'{scope}.bias'])

    def __call__(self, z):
        x = z * torch.reciprocal(torch.sqrt((z * z).mean(dim=1, keepdim=True) + 1e-8))
        for i in self.mapping:
            x = F.leaky_relu(F.linear(x, self.w[f'G.mapping.fc{i}.weight'], self.w[f'G.mapping.fc{i}.bias']), 0.2) * SQRT2
        wv = x  # ws is w broadcast: every layer reads the same w
        img = None
        feat = None
        for res in self.res:
            b = f'G.synthesis.b{res}'
            if res == 4:
                feat = self.layer(f'{b}.conv1', self.w[f'{b}.const'].unsqueeze(0), wv, False)
            else:
                feat = self.layer(f'{b}.conv0', feat, wv, True)
                feat = self.layer(f'{b}.conv1', feat, wv, False)
            y = self.torgb(f'{b}.torgb', feat, wv)
            img = y if img is None else F.interpolate(img, scale_factor=2, mode='bilinear', align_corners=False) + y
        return img


def fps(step, seconds):
    for _ in range(5):
        step()
    torch.cuda.synchronize()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        step()
        n += 1
    torch.cuda.synchronize()
    return n / (time.perf_counter() - t0)


def bench(path, seconds):
    dev = torch.device('cuda')
    g = StyleGan2(weights(path, dev))
    z = torch.from_numpy(np.sin(np.arange(512, dtype=np.float32)).reshape(1, 512))
    with torch.no_grad():
        ours = g(z.to(dev)).cpu().numpy()
    ref = ort.InferenceSession(path, providers=['CPUExecutionProvider']).run(['img'], {'z': z.numpy()})[0]
    diff = float(np.abs(ours - ref).max())
    zs = [torch.from_numpy(np.sin(np.arange(512, dtype=np.float32) * (k + 1)).reshape(1, 512)).to(dev) for k in range(8)]
    k = [0]

    def eager():
        with torch.no_grad():
            g(zs[k[0] % 8])
        k[0] += 1

    eager_fps = fps(eager, seconds)
    static = zs[0].clone()
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream), torch.no_grad():
        for _ in range(3):
            g(static)
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph), torch.no_grad():
        g(static)

    def replay():
        static.copy_(zs[k[0] % 8])
        graph.replay()
        k[0] += 1

    graph_fps = fps(replay, seconds)
    return {'maxAbsDiffVsOnnxruntimeCpu': diff, 'eagerFps': eager_fps, 'cudaGraphFps': graph_fps, 'resolution': g.res[-1]}


def main():
    p = argparse.ArgumentParser()
    p.add_argument('models', nargs='+')
    p.add_argument('--seconds', type=float, default=8)
    p.add_argument('--out', default='bench/results/gpu-torch.json')
    a = p.parse_args()
    try:
        gpu = subprocess.run(['nvidia-smi', '--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'], capture_output=True, text=True).stdout.strip()
    except OSError:
        gpu = 'none (no nvidia-smi)'
    results = {}
    for m in a.models:
        results[os.path.basename(m)] = r = bench(m, a.seconds)
        print(os.path.basename(m), json.dumps(r), flush=True)
    body = {
        'bench': 'gpu-torch',
        'date': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
        'machine': {'host': platform.node(), 'gpu': gpu, 'torch': torch.__version__, 'cuda': torch.version.cuda},
        'note': 'float32; eager: one forward a frame; cudaGraph: a captured forward replayed with a new z copied in',
        'models': results,
    }
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, 'w') as f:
        json.dump(body, f, indent=2)
        f.write('\n')


if __name__ == '__main__':
    main()
