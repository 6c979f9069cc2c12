/** Screenshot of an HTML file in headless Chromium: npx tsx bench/screenshot.ts page.html out.png [width] */
import path from 'node:path';
import { launchChromium } from '../test/chromium.js';

const [file, out, width = '1280'] = process.argv.slice(2);
const browser = await launchChromium({ gpu: 'off' });
const page = await browser.newPage({ viewport: { width: Number(width), height: 900 } });
await page.goto(`file://${path.resolve(file)}`);
await page.screenshot({ path: out, fullPage: true });
await browser.close();
