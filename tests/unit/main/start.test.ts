/** bin/start.mjs finds Electron's binary from path.txt and dist/ without loading the electron package. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

// @ts-expect-error plain ESM script without types
const { findElectron } = await import('../../../bin/start.mjs');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'loram-start-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('npm start: Electron binary detection', () => {
  test('no path.txt → not installed, with the reason', () => {
    writeFileSync(path.join(dir, 'package.json'), '{}');
    // an index.js that would "download" if it were ever loaded
    writeFileSync(path.join(dir, 'index.js'), 'throw new Error("loaded electron/index.js")');
    const r = findElectron(dir);
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/path\.txt is missing/);
  });

  test('path.txt but no binary in dist/ → missing', () => {
    writeFileSync(path.join(dir, 'package.json'), '{}');
    writeFileSync(path.join(dir, 'path.txt'), 'electron');
    expect(findElectron(dir)).toMatchObject({ ok: false, reason: expect.stringMatching(/binary is missing/) });
  });

  test('path.txt and dist/<binary> → found', () => {
    writeFileSync(path.join(dir, 'package.json'), '{}');
    writeFileSync(path.join(dir, 'path.txt'), 'electron');
    mkdirSync(path.join(dir, 'dist'));
    writeFileSync(path.join(dir, 'dist', 'electron'), '');
    expect(findElectron(dir)).toEqual({ ok: true, bin: path.join(dir, 'dist', 'electron') });
  });

  test('no package at all', () => {
    expect(findElectron(path.join(dir, 'nope')).ok).toBe(false);
  });

  test('--help runs without touching Electron', () => {
    const r = spawnSync(process.execPath, [path.resolve('bin/start.mjs'), '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/graphs\/quickstart\.json/);
  });
});
