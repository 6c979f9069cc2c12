/**
 * The report of a fixture run, opened in headless Chromium (Debian's, via playwright-core): every section
 * with data is visible, missing ones are noted, no console errors, no network requests; a screenshot is
 * saved under test-output/.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cli } from '../commands/cli.js';
import { saveFixtureModel, FIXTURE_DATA } from '../fixture-model.js';
import { saveModel, loadModel } from '../../src/model/io.js';
import { useBackend } from '../../src/engine/backend.js';
import { reportSections } from '../../src/report/report.js';
import { hasChromium, launchChromium } from '../chromium.js';

const OUT = path.resolve('test-output');

async function fixtureRun(): Promise<string> {
  const run = mkdtempSync(path.join(os.tmpdir(), 'fer-report-'));
  await useBackend('cpu');
  const model = await saveFixtureModel(6);
  const { model: m, meta } = await loadModel(model);
  await saveModel(m, path.join(run, 'best'), {
    ...meta,
    pruning: { sparsity: 0.5, pattern: 'unstructured', perLayer: { 'conv2d/kernel': 0.5, 'separable_conv2d/pointwise_kernel': 0.5 } },
  });
  m.dispose();
  writeFileSync(
    path.join(run, 'run.json'),
    JSON.stringify({ command: 'fer train --data fixtures --epochs 3', options: { epochs: 3, lr: 0.001 } }),
  );
  writeFileSync(
    path.join(run, 'metrics.jsonl'),
    [1, 2, 3]
      .map((e) =>
        JSON.stringify({
          epoch: e,
          loss: 2 - e * 0.2,
          acc: 0.2 + e * 0.05,
          valLoss: 1.9 - e * 0.1,
          valAcc: 0.2 + e * 0.04,
          lr: 0.001 / e,
          seconds: 10,
          imagesPerSecond: 21,
        }),
      )
      .join('\n') + '\n',
  );
  expect(
    (await cli('eval', '--model', path.join(run, 'best'), '--data', FIXTURE_DATA + '/val', '--out', run, '--backend', 'cpu')).code,
  ).toBe(0);
  const onnx = path.join(run, 'best.onnx');
  expect((await cli('export', 'onnx', '--model', path.join(run, 'best'), '--out', onnx, '--no-verify', '--backend', 'cpu')).code).toBe(0);
  expect((await cli('bench', onnx, '--batch', '1,8', '--iterations', '3', '--warmup', '1', '--out', run)).code).toBe(0);
  return run;
}

describe.skipIf(!hasChromium())('fer report in headless Chromium', () => {
  let run: string;
  beforeAll(async () => {
    run = await fixtureRun();
  }, 120_000);

  it('renders every section that has data, offline, without console errors', async () => {
    const r = await cli('report', run, '--json');
    expect(r.code, r.stderr).toBe(0);
    const { file, sections, missing } = JSON.parse(r.stdout);
    expect(sections).toEqual(['run', 'curves', 'confusion', 'pruning', 'bench', 'samples']);
    expect(missing).toEqual(['quantization']);
    const html = readFileSync(file, 'utf8');
    expect(html).not.toMatch(/<script|(src|href)="https?:|url\(https?:/);
    expect(html).toContain(`Models measured: ${path.join(run, 'best.onnx')}`); // the bench section names what it measured
    expect(html).toContain('<br/>true: '); // a misclassified face names its true label (not struck through)
    expect(html).not.toContain('<s>');

    const browser = await launchChromium({ gpu: 'off' });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const requests: string[] = [],
        errors: string[] = [];
      page.on('request', (q) => {
        if (!q.url().startsWith('file:') && !q.url().startsWith('data:')) requests.push(q.url());
      });
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`file://${path.resolve(file)}`);
      for (const id of sections) expect(await page.locator(`#${id}`).isVisible(), id).toBe(true);
      expect(await page.locator('#quantization-missing').isVisible()).toBe(true);
      expect(await page.locator('#samples img').count()).toBeGreaterThan(10);
      expect(await page.locator('#confusion svg rect').count()).toBeGreaterThanOrEqual(49);
      mkdirSync(OUT, { recursive: true });
      await page.screenshot({ path: path.join(OUT, 'report.png'), fullPage: true });
      expect(requests).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);

  it('a folder with nothing of fer in it is an error (a wrong path, most likely), not a page of empty sections', async () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), 'fer-report-empty-'));
    const r = await cli('report', empty, '--json');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/report: nothing to report in /);
    expect(readdirSync(empty)).toEqual([]);
  });
});

describe('report metadata', () => {
  it('says when the evaluated model is an average with re-estimated batch norm (fer average), from its own model.json', async () => {
    await useBackend('cpu');
    const run = mkdtempSync(path.join(os.tmpdir(), 'fer-report-avg-'));
    const plain = await saveFixtureModel(7);
    const { model, meta } = await loadModel(plain);
    const averaged = path.join(run, 'averaged');
    await saveModel(model, averaged, { ...meta, averagedFrom: ['runs/a/last', 'runs/b/last'] });
    model.dispose();
    const confusionHtml = async (m: string) => {
      expect(
        (await cli('eval', '--model', m, '--data', FIXTURE_DATA + '/val', '--out', run, '--backend', 'cpu', '--tta', 'none')).code,
      ).toBe(0);
      return reportSections(run).find((x) => x.id === 'confusion')!.html!;
    };
    expect(await confusionHtml(plain)).not.toContain('fer average');
    expect(await confusionHtml(averaged)).toMatch(
      /mean of the weights of runs\/a\/last, runs\/b\/last, with batch-norm statistics re-estimated/,
    );
  }, 60_000);
});
