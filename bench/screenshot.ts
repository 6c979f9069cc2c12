/** Screenshot of an HTML file in headless Chromium: npx tsx bench/screenshot.ts page.html out.png [width] */
import path from 'node:path';
import { chromium } from 'playwright-core';

const [file, out, width = '1280'] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
const page = await browser.newPage({ viewport: { width: Number(width), height: 900 } });
await page.goto(`file://${path.resolve(file)}`);
await page.screenshot({ path: out, fullPage: true });
await browser.close();
