/**
 * Issue 34, items 5, 6 and 11: `fer serve` on hostile requests and places (a bad percent-encoding, symlinks
 * leading out of the folder, a busy port, a host that is not there), and the page never putting model data
 * into innerHTML.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { cli } from '../commands/cli.js';
import { serveSite } from '../../src/web/site.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'fer-serve-'));
const site = path.join(root, 'site');
mkdirSync(path.join(site, 'sub'), { recursive: true });
writeFileSync(path.join(site, 'index.html'), '<p>page</p>');
writeFileSync(path.join(site, 'sub', 'a.txt'), 'inside');
writeFileSync(path.join(root, 'secret.txt'), 'outside');
mkdirSync(path.join(root, 'secret-dir'));
writeFileSync(path.join(root, 'secret-dir', 'b.txt'), 'outside too');
symlinkSync(path.join(root, 'secret.txt'), path.join(site, 'leak.txt'));
symlinkSync(path.join(root, 'secret-dir'), path.join(site, 'leakdir'));
symlinkSync(path.join(site, 'sub', 'a.txt'), path.join(site, 'ok-link.txt'));

/** A raw GET (no client-side normalisation of the path). */
function get(port: number, p: string, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: p, method }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('fer serve: hostile requests', () => {
  let server: Awaited<ReturnType<typeof serveSite>>;
  afterAll(async () => server?.close());

  it('answers 400 to bad encodings, 404 to anything outside (symlinks included), and keeps running', async () => {
    server = await serveSite(site);
    const port = (server.server.address() as { port: number }).port;
    const cases: [string, number][] = [
      ['/%', 400],
      ['/%E0%A4%A', 400],
      ['/%ff', 400],
      ['/a%00b', 400],
      ['/leak.txt', 404],
      ['/leakdir/b.txt', 404],
      ['/../secret.txt', 404],
      ['/%2e%2e/secret.txt', 404],
      ['/sub/..%2f..%2fsecret.txt', 404],
      ['/sub', 404],
      ['/nothing', 404],
      ['/sub/a.txt', 200],
      ['/ok-link.txt', 200],
      ['/', 200],
    ];
    for (const [p, status] of cases) {
      const r = await get(port, p);
      expect(r.status, p).toBe(status);
      expect(r.body, p).not.toMatch(/outside/);
    }
    expect((await get(port, '/', 'POST')).status).toBe(405);
    expect((await get(port, '/sub/a.txt')).body).toBe('inside');
    expect(readFileSync(path.join(root, 'secret.txt'), 'utf8')).toBe('outside');
  });

  it('close() does not wait for a client holding a half-sent request (Ctrl-C on fer serve waited for it)', async () => {
    const own = await serveSite(site);
    const port = (own.server.address() as { port: number }).port;
    const socket = connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.on('connect', resolve));
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n'); // no blank line: the request never ends
    const closed = own.close().then(() => 'closed');
    const waited = new Promise((resolve) => setTimeout(() => resolve('still open after 3 s'), 3000));
    expect(await Promise.race([closed, waited])).toBe('closed');
    socket.destroy();
  });

  it('a busy port or a host that is not there is one line, exit 2', async () => {
    const port = (server.server.address() as { port: number }).port;
    const busy = await cli('serve', site, '--port', String(port));
    expect(busy.code).toBe(2);
    expect(busy.stderr.split('\n')[0]).toMatch(/^fer: serve: port \d+ is in use on 127\.0\.0\.1$/);
    for (const host of ['203.0.113.7', 'no-such-host.invalid']) {
      const r = await cli('serve', site, '--port', '0', '--host', host);
      expect(r.code, host).toBe(2);
      expect(r.stderr.split('\n')[0], host).toMatch(/^fer: serve: /);
    }
  });

  it('a folder that is not there is named as such (it said "has no index.html")', async () => {
    const gone = path.join(os.tmpdir(), 'fer-no-such-site');
    await expect(serveSite(gone)).rejects.toThrow(`serve: no such folder: ${gone} (write one with fer export web --out ${gone})`);
    const empty = mkdtempSync(path.join(os.tmpdir(), 'fer-empty-site-'));
    await expect(serveSite(empty)).rejects.toThrow(`serve: ${empty} has no index.html`);
  });
});

describe('the web page', () => {
  it('builds its DOM from text nodes: no innerHTML (class names come from the model)', () => {
    const src = readFileSync('src/web/browser/app.ts', 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
    expect(src).not.toMatch(/\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write/);
    expect(src).toMatch(/textContent/);
  });
});
