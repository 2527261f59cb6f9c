// Navigation → library rows visible, signed in, 20 tracks, in headless Chromium on loopback:
// the server-rendered page (hydrated by the release bundle) against the client-rendered app
// it replaced (the same components built with `csr`, its API proxied the way `trunk serve`
// does), in one run, taking turns. Each turn is a fresh browser profile: the first visit
// (nothing cached), then the same page again (the bundle cached).
//
//   TRACKLIST_BIN=target/release/tracklist TRACKLIST_DIST=dist CSR_DIST=target/dist-csr \
//     node bench/navigation.mjs [turns]
//
// Prints a Markdown table. The moment rows are visible is taken inside the page: a
// MutationObserver installed before any of the page's own code notes `performance.now()`
// when the table holds 20 rows.
import { createReadStream, existsSync, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { DEMO, startBrowser, startServer } from '../e2e/harness.mjs';

const TURNS = Number(process.argv[2] ?? 10);
const CSR_DIST = path.resolve(process.env.CSR_DIST ?? 'target/dist-csr');
const API = ['/login', '/logout', '/users', '/tracks'];
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css' };

/** The `csr` bundle from CSR_DIST, the API forwarded to `api`: what `trunk serve` does. */
function clientRenderedSite(api) {
  const upstream = new URL(api);
  const server = http.createServer((request, response) => {
    const { pathname } = new URL(request.url, 'http://x');
    if (API.some((prefix) => pathname === prefix || pathname.startsWith(`${prefix}/`))) {
      const forwarded = http.request(
        { host: upstream.hostname, port: upstream.port, method: request.method, path: request.url,
          headers: { ...request.headers, host: upstream.host } },
        (answer) => { response.writeHead(answer.statusCode, answer.headers); answer.pipe(response); },
      );
      request.pipe(forwarded);
      return;
    }
    const file = path.join(CSR_DIST, pathname);
    const served = pathname !== '/' && existsSync(file) && statSync(file).isFile() ? file : path.join(CSR_DIST, 'index.html');
    response.writeHead(200, { 'content-type': TYPES[path.extname(served)] ?? 'application/octet-stream' });
    createReadStream(served).pipe(response);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => server.close(),
  })));
}

async function rowsVisibleAfter(page, url) {
  await page.goto(url, { waitUntil: 'commit' });
  await page.waitForFunction(() => window.__rowsVisibleAt !== undefined, null, { timeout: 30_000 });
  return page.evaluate(() => window.__rowsVisibleAt);
}

/** One turn against `site`: ms to rows on the first visit and on the next. */
async function turn(browser, site) {
  const context = await browser.newContext();
  await context.addInitScript(() => {
    const check = () => {
      if (window.__rowsVisibleAt === undefined && document.querySelectorAll('table.tracks tbody tr').length >= 20) {
        window.__rowsVisibleAt = performance.now();
      }
    };
    new MutationObserver(check).observe(document, { childList: true, subtree: true });
  });
  const signIn = await context.request.post(`${site}/login`, { form: DEMO });
  if (signIn.status() !== 200) throw new Error(`sign-in answered ${signIn.status()}`);
  const page = await context.newPage();
  const first = await rowsVisibleAfter(page, `${site}/`);
  const again = await rowsVisibleAfter(page, `${site}/`);
  await context.close();
  return { first, again };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

const server = await startServer();
const browser = await startBrowser();
const csr = await clientRenderedSite(server.url);
try {
  // 20 tracks on the first page: the demo's 4 and 16 more.
  const seeding = await browser.newContext();
  await seeding.request.post(`${server.url}/login`, { form: DEMO });
  for (let n = 1; n <= 16; n += 1) {
    await seeding.request.post(`${server.url}/tracks`, { data: { title: `Bench ${n}`, artist: 'Bench Band' } });
  }
  await seeding.close();

  const times = { ssr: { first: [], again: [] }, csr: { first: [], again: [] } };
  for (let n = 0; n < TURNS; n += 1) {
    for (const [name, site] of [['ssr', server.url], ['csr', csr.url]]) {
      const { first, again } = await turn(browser, site);
      times[name].first.push(first);
      times[name].again.push(again);
    }
  }
  const row = (label, visit) => {
    const ssr = median(times.ssr[visit]);
    const client = median(times.csr[visit]);
    return `| ${label} | ${client.toFixed(0)} ms | ${ssr.toFixed(0)} ms | **${(ssr / client).toFixed(2)}×** |`;
  };
  console.log(`Navigation → 20 library rows visible, signed in, headless Chromium, loopback; median of ${TURNS} turns each, taking turns.`);
  console.log('');
  console.log('| visit | client-rendered (before) | server-rendered | ratio (target ≤ 0.5×) |');
  console.log('|---|---|---|---|');
  console.log(row('first (nothing cached)', 'first'));
  console.log(row('again (bundle cached)', 'again'));
} finally {
  csr.close();
  await browser.close();
  server.stop();
}
