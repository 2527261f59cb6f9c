// Starts the real server (debug build, fresh SQLite, --demo) rendering the pages into the release bundle,
// and headless Debian Chromium, for the browser tests.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';

const root = path.resolve(import.meta.dirname, '..');
export const SCREENSHOTS = path.resolve(root, process.env.TRACKLIST_SCREENSHOTS ?? 'screenshots');
const SERVER = path.resolve(root, process.env.TRACKLIST_BIN ?? 'target/debug/tracklist');
const DIST = path.resolve(root, process.env.TRACKLIST_DIST ?? 'dist');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** Starts `tracklist serve` on a free port and resolves with its base URL. */
export async function startServer() {
  const dir = mkdtempSync(path.join(tmpdir(), 'tracklist-e2e-'));
  const databaseUrl = `sqlite://${path.join(dir, 'e2e.db')}`;
  const child = spawn(SERVER, [
    'serve', '--bind', '127.0.0.1:0', '--demo', '--static-dir', DIST,
    '--database-url', databaseUrl,
  ], { env: { ...process.env, NO_COLOR: '1', RUST_LOG: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 30_000);
    const onData = (chunk) => {
      log += chunk;
      const match = log.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (match) { clearTimeout(timer); resolve(match[1]); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited with ${code}:\n${log}`)); });
  });
  child.removeAllListeners('exit');
  return {
    url,
    log: () => log,
    /** Runs `tracklist user …` on this server's database; resolves with its standard output. */
    user: (args, input = '') => execFileSync(SERVER, ['user', ...args], {
      input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, TRACKLIST_DATABASE_URL: databaseUrl, TRACKLIST_PUBLIC_URL: url },
    }).trim(),
    stop() { child.kill('SIGTERM'); rmSync(dir, { recursive: true, force: true }); },
  };
}

export async function startBrowser() {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * A page that records console errors and warnings (hydration mismatches are warnings), page
 * errors and CSP violations into `problems`.
 */
export async function newPage(browser, problems, options = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  page.on('console', (message) => {
    // Chromium logs every 4xx API answer (401 while signed out, 409 for a taken name) as a
    // failed resource load; the app handles those. Everything else is a problem.
    // Chromium also warns that it cannot check the integrity Trunk puts on the wasm preload
    // (crbug.com/981419): a remark on Trunk's markup, not a fault of the page.
    const serious = message.type() === 'error' || message.type() === 'warning';
    const expected = /the server responded with a status of 4\d\d|integrity` attribute is currently ignored for preload/;
    if (serious && !expected.test(message.text())) {
      problems.push(`console: ${message.text()}`);
    }
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  return { context, page };
}

/**
 * Opens `url` and waits until the page has hydrated: Trunk's loader sets `wasmBindings` once
 * the wasm has started, and starting it hydrates the server's HTML. Before that the page is
 * plain HTML (forms post, links load), which the no-JavaScript suite covers.
 */
export async function open(page, url) {
  await page.goto(url);
  await hydrated(page);
}

/** Waits until the current document has hydrated (after a reload or a form post). */
export async function hydrated(page) {
  await page.waitForFunction(() => window.wasmBindings !== undefined);
}

/** The account `--demo` creates. */
export const DEMO = { username: 'john', password: 'tracklist-demo-password' };

/**
 * A server and a browser for the calling test file: started before its tests, stopped after
 * them. `problems` gathers what `newPage` records.
 */
export function serverAndBrowser() {
  const env = { server: undefined, browser: undefined, problems: [] };
  before(async () => {
    env.server = await startServer();
    env.browser = await startBrowser();
  });
  after(async () => {
    await env.browser?.close();
    env.server?.stop();
  });
  return env;
}

/** Saves a full-page screenshot of `page` as `SCREENSHOTS/{prefix}{name}.png`. */
export function screenshots(prefix = '') {
  return (page, name) => page.screenshot({ path: path.join(SCREENSHOTS, `${prefix}${name}.png`), fullPage: true });
}
