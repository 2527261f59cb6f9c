// Two-step sign-in and one-time links in a real browser (issue 15): enrol from the account page
// (the key read off the page, codes computed here), sign in with password and code, with a
// recovery code, and set a password from a reset link whose secret never reaches the server.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { DEMO, hydrated, newPage, open, screenshots, serverAndBrowser } from './harness.mjs';

const env = serverAndBrowser();
const shot = screenshots('two-step-');

/** RFC 6238 (HMAC-SHA1, 6 digits, 30 s) for a base32 key, `offset` steps from now. */
function totp(base32, offset = 0) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const key = [];
  for (const char of base32.replace(/=+$/, '')) {
    value = (value << 5) | alphabet.indexOf(char);
    bits += 5;
    if (bits >= 8) {
      key.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30_000) + offset));
  const mac = createHmac('sha1', Buffer.from(key)).update(counter).digest();
  const at = mac[mac.length - 1] & 15;
  return String((mac.readUInt32BE(at) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

async function signIn(page, { username, password }) {
  await open(page, `${env.server.url}/sign-in`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function signOut(page) {
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.getByRole('link', { name: 'Sign in' }).waitFor();
}

async function enterCode(page, code) {
  await page.waitForURL((url) => url.pathname === '/sign-in/code');
  await page.getByLabel('Code').fill(code);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

describe('two-step sign-in', () => {
  let page;
  let secret;
  let recoveryCodes;
  before(async () => ({ page } = await newPage(env.browser, env.problems)));

  test('turning it on shows a QR code and the key, then ten recovery codes once', async () => {
    await signIn(page, DEMO);
    await page.getByTestId('current-user').waitFor();
    await open(page, `${env.server.url}/account`);
    await page.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
    await page.locator('.qr svg').waitFor();
    secret = (await page.getByTestId('totp-secret').innerText()).trim();
    assert.match(secret, /^[A-Z2-7]{32}$/);
    await shot(page, '01-key');
    await page.getByLabel('Your password').fill(DEMO.password);
    await page.getByLabel('Code from the app').fill(totp(secret));
    await page.getByRole('button', { name: 'Turn on', exact: true }).click();
    const list = page.getByTestId('recovery-codes');
    await list.waitFor();
    recoveryCodes = (await list.locator('li').allInnerTexts()).map((code) => code.trim());
    assert.equal(recoveryCodes.length, 10);
    await page.getByTestId('two-step-state').filter({ hasText: '10 recovery codes left' }).waitFor();
    await shot(page, '02-recovery-codes');
  });

  test('after the password, sign-in asks for a code and then signs in', async () => {
    await signOut(page);
    await signIn(page, DEMO);
    // The code shown next: the enrolment used the current one, and each is good once.
    await enterCode(page, totp(secret, 1));
    await page.getByTestId('current-user').filter({ hasText: 'john' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/');
  });

  test('a wrong code says so and a recovery code signs in once', async () => {
    await signOut(page);
    await signIn(page, DEMO);
    await enterCode(page, '000000');
    await page.getByTestId('error').filter({ hasText: 'That code is not right' }).waitFor();
    await shot(page, '03-wrong-code');
    await page.getByLabel('Code').fill(recoveryCodes[0]);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('current-user').filter({ hasText: 'john' }).waitFor();
    await open(page, `${env.server.url}/account`);
    await page.getByTestId('two-step-state').filter({ hasText: '9 recovery codes left' }).waitFor();
  });
});

describe('one-time links', () => {
  test('a reset link sets a new password; its secret never reaches the server; it works once', async () => {
    env.server.user(['add', 'rita', '--password-stdin'], 'the first password of rita\n');
    const link = env.server.user(['reset-link', 'rita']);
    const verifier = link.split('#')[1].split('.')[1];
    const { page } = await newPage(env.browser, env.problems);
    const sent = [];
    page.on('request', (request) => sent.push([request.url(), request.headers().referer ?? '']));
    await open(page, link);
    await page.getByLabel('New password').fill('rita has a new long password');
    assert.ok(!page.url().includes(verifier), 'the page takes the secret out of the address bar');
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByTestId('reset-done').waitFor();
    await shot(page, '04-reset-done');
    const leaked = sent.filter(([url, referer]) => url.includes(verifier) || referer.includes(verifier));
    assert.deepEqual(leaked, [], 'no request carried the secret');
    assert.ok(sent.some(([url]) => url.endsWith('/password-reset')), 'the page did post the reset');

    await signIn(page, { username: 'rita', password: 'rita has a new long password' });
    await page.getByTestId('current-user').filter({ hasText: 'rita' }).waitFor();

    await open(page, link);
    await page.getByTestId('link-state').filter({ hasText: 'already used' }).waitFor();
    await shot(page, '05-used-link');
  });

  test('an invitation signs up with a note saying so', async () => {
    const link = env.server.user(['invite']);
    const { page } = await newPage(env.browser, env.problems);
    await open(page, link);
    await page.getByTestId('link-state').filter({ hasText: 'You were invited' }).waitFor();
    await page.getByLabel('Username').fill('ivan');
    await page.getByLabel('Password').fill('ivan picks a long password');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByTestId('current-user').filter({ hasText: 'ivan' }).waitFor();
  });
});

test('no console errors, page errors or CSP violations happened', () => {
  assert.deepEqual(env.problems, []);
});
