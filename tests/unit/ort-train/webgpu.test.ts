/**
 * The training graph on ONNX Runtime's WebGPU provider (Dawn) over Chromium's SwiftShader Vulkan driver, a software
 * GPU: LoRA and full-weight gradients equal tfjs's to 1e-4. On a real GPU the same session runs on Vulkan / D3D12 /
 * Metal. Runs in a child process because the Vulkan loader and driver are picked from the environment at start.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CHROMIUM_LIB = ['/usr/lib/chromium', '/usr/lib64/chromium'].find((d) => existsSync(path.join(d, 'vk_swiftshader_icd.json')) && existsSync(path.join(d, 'libvulkan.so.1')));
const run = CHROMIUM_LIB ? test : test.skip;
if (!CHROMIUM_LIB) console.warn('WebGPU test skipped: Debian chromium (its SwiftShader Vulkan driver) is not installed');

run('WebGPU provider gradients equal tfjs', () => {
  const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../../helpers/webgpu-grads.ts', import.meta.url))], {
    env: {
      ...process.env,
      LD_LIBRARY_PATH: [CHROMIUM_LIB, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
      VK_ICD_FILENAMES: path.join(CHROMIUM_LIB!, 'vk_swiftshader_icd.json'),
      XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp',
    },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 240_000,
  });
  const r = JSON.parse(out.trim().split('\n').pop()!) as Record<'lora' | 'full', { provider: string; loss: number; grad: number }>;
  for (const k of ['lora', 'full'] as const) {
    expect(r[k].provider).toBe('webgpu');
    expect(r[k].loss).toBeLessThan(1e-5);
    expect(r[k].grad).toBeLessThan(1e-4);
  }
}, 300_000);
