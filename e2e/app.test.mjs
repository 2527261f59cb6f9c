// The app in a real browser against the real server, with JavaScript: every user-facing feature, with a
// screenshot of each step.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { DEMO, hydrated, newPage, open, screenshots, serverAndBrowser } from './harness.mjs';

const env = serverAndBrowser();
const shot = screenshots();

async function signIn(page, { username, password }) {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByLabel('Password').press('Enter');
}

const trackRow = (page, title) => page.locator('table.tracks tbody tr', { hasText: title });

describe('signed-in user journey', () => {
  let page;
  before(async () => ({ page } = await newPage(env.browser, env.problems)));

  test('a sign-in form is interactive soon after navigation', async () => {
    const started = Date.now();
    await open(page, `${env.server.url}/sign-in`);
    await page.getByRole('button', { name: 'Sign in' }).waitFor({ state: 'visible' });
    const elapsed = Date.now() - started;
    console.log(`time to interactive sign-in form: ${elapsed} ms`);
    assert.equal(await page.title(), 'Sign in · Tracklist');
  });

  test('a wrong password shows the server message and keeps the username', async () => {
    await signIn(page, { username: 'john', password: 'not the right password' });
    await page.getByTestId('error').filter({ hasText: 'Incorrect username or password' }).waitFor();
    assert.equal(await page.getByLabel('Username').inputValue(), 'john');
    assert.equal(await page.getByLabel('Password').inputValue(), '');
    await shot(page, '01-wrong-password');
  });

  test('signing in shows the username', async () => {
    await signIn(page, DEMO);
    await page.getByTestId('current-user').filter({ hasText: 'john' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/');
    await shot(page, '02-signed-in');
  });

  test('the session cookie is not readable from JavaScript', async () => {
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'id');
    assert.ok(session, 'a session cookie exists');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    assert.ok(!(await page.evaluate(() => document.cookie)).includes(session.value));
  });

  test('reloading keeps the session', async () => {
    await page.reload();
    await hydrated(page);
    await page.getByTestId('current-user').filter({ hasText: 'john' }).waitFor();
    await shot(page, '03-reloaded');
  });

  test('the library lists the demo tracks and searches them', async () => {
    await trackRow(page, 'The Rain Song').waitFor();
    assert.equal(await page.locator('table.tracks tbody tr').count(), 4);
    await page.getByLabel('Search by title or artist').fill('blur');
    await page.waitForFunction(() => document.querySelectorAll('table.tracks tbody tr').length === 1);
    assert.match(await page.locator('table.tracks tbody').innerText(), /Song 2/);
    await shot(page, '04-search');
    await page.getByLabel('Search by title or artist').fill('');
    await page.waitForFunction(() => document.querySelectorAll('table.tracks tbody tr').length === 4);
  });

  test('adding a track makes it appear', async () => {
    const form = page.locator('form.track-form').last();
    await form.getByLabel('Title').fill('Paranoid Android');
    await form.getByLabel('Artist').fill('Radiohead');
    await form.getByLabel('Year').fill('1997');
    await form.getByRole('button', { name: 'Add track' }).click();
    await trackRow(page, 'Paranoid Android').waitFor();
    await shot(page, '05-added');
  });

  test('the add form shows validation messages before sending', async () => {
    const form = page.locator('form.track-form').last();
    await form.getByLabel('Year').fill('99');
    await form.getByRole('button', { name: 'Add track' }).click();
    await form.getByText('is required').first().waitFor();
    await form.getByText(/must be between 1000/).waitFor();
    await form.getByLabel('Year').fill('');
  });

  test('editing a track changes it', async () => {
    await trackRow(page, 'Paranoid Android').getByRole('button', { name: 'Edit' }).click();
    const form = page.locator('tr.editing form');
    await form.getByLabel('Title').fill('Paranoid Android (Live)');
    await form.getByRole('button', { name: 'Save' }).click();
    await trackRow(page, 'Paranoid Android (Live)').waitFor();
    await shot(page, '06-edited');
  });

  test('deleting a track removes it', async () => {
    page.once('dialog', (dialog) => dialog.accept());
    await trackRow(page, 'Paranoid Android (Live)').getByRole('button', { name: 'Delete' }).click();
    await trackRow(page, 'Paranoid Android').waitFor({ state: 'detached' });
    await shot(page, '07-deleted');
  });

  test('the header offers signing out on every page', async () => {
    await page.getByTestId('current-user').click();
    await page.getByTestId('account-username').filter({ hasText: 'john' }).waitFor();
    await page.getByRole('button', { name: 'Sign out', exact: true }).waitFor();
    await shot(page, '08-account');
    await open(page, `${env.server.url}/no/such/page`);
    await page.getByRole('button', { name: 'Sign out', exact: true }).waitFor();
    await open(page, `${env.server.url}/`);
    await page.getByRole('button', { name: 'Sign out', exact: true }).waitFor();
  });

  test('signing out returns to the signed-out state and revokes the session', async () => {
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.getByRole('link', { name: 'Sign in' }).waitFor();
    const status = await page.evaluate(async () => (await fetch('/users/me')).status);
    assert.equal(status, 401);
    assert.equal(await page.getByRole('button', { name: 'Edit' }).count(), 0);
    await shot(page, '09-signed-out');
  });
});

describe('visitors', () => {
  test('a deep link to a page that needs a session goes to sign-in and comes back', async () => {
    const { page } = await newPage(env.browser, env.problems);
    await open(page, `${env.server.url}/account`);
    await page.waitForURL((url) => url.pathname === '/sign-in' && url.searchParams.get('next') === '/account');
    await shot(page, '10-deep-link-sign-in');
    await signIn(page, DEMO);
    await page.waitForURL((url) => url.pathname === '/account');
    await page.getByTestId('account-username').filter({ hasText: 'john' }).waitFor();
    await shot(page, '11-deep-link-back');
  });

  test('after signing in, a next address on another site lands on the library', async () => {
    const { page } = await newPage(env.browser, env.problems);
    await open(page, `${env.server.url}/sign-in?next=${encodeURIComponent('/%09/evil.example')}`);
    await signIn(page, DEMO);
    await page.getByTestId('current-user').filter({ hasText: 'john' }).waitFor();
    assert.equal(page.url(), `${env.server.url}/`);
    await open(page, `${env.server.url}/sign-in?next=${encodeURIComponent('//evil.example/x')}`);
    await page.waitForURL(`${env.server.url}/`);
  });

  test('signing up checks the rules as you type, then signs the new user in', async () => {
    const { page } = await newPage(env.browser, env.problems);
    await open(page, `${env.server.url}/sign-up`);
    // Counted after NFKC, as the server counts: the ligature "ﬁ" is two characters.
    await page.getByLabel('Password').fill('ﬁ');
    await page.getByText('2 / at least 15 characters').waitFor();
    await page.getByLabel('Username').fill('new user');
    await page.getByText(/may only contain letters/).waitFor();
    await page.getByLabel('Username').fill('newcomer');
    await page.getByLabel('Password').fill('short');
    await page.getByText(/at least 15 characters/).first().waitFor();
    await shot(page, '12-sign-up-rules');
    await page.getByLabel('Password').fill('a perfectly long passphrase');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByTestId('current-user').filter({ hasText: 'newcomer' }).waitFor();
    await shot(page, '13-signed-up');
  });

  test('signing up with a taken name shows the server message', async () => {
    const { page } = await newPage(env.browser, env.problems);
    await open(page, `${env.server.url}/sign-up`);
    await page.getByLabel('Username').fill('john');
    await page.getByLabel('Password').fill('another long passphrase');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByTestId('error').filter({ hasText: 'That username is taken' }).waitFor();
  });
});

describe('account management', () => {
  const KEEPER = { username: 'keeper', password: 'keeper has a long passphrase' };

  test('the account page lists sessions, revokes another device and changes the password', async () => {
    const { context, page } = await newPage(env.browser, env.problems);
    const signUp = await context.request.post(`${env.server.url}/users`, { data: KEEPER });
    assert.equal(signUp.status(), 201);
    await open(page, `${env.server.url}/sign-in?next=/account`);
    await signIn(page, KEEPER);
    await page.waitForURL((url) => url.pathname === '/account');
    await page.getByTestId('session').first().waitFor();
    assert.equal(await page.getByTestId('session').count(), 1);
    assert.match(await page.getByTestId('session').innerText(), /This device/);

    // Another device signs in.
    const other = await env.browser.newContext();
    const otherLogin = await other.request.post(`${env.server.url}/login`, { form: KEEPER });
    assert.equal(otherLogin.status(), 200);
    await page.reload();
    await hydrated(page);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=session]').length === 2);
    await shot(page, '14-sessions');
    await page.getByRole('button', { name: 'Revoke' }).click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=session]').length === 1);
    assert.equal((await other.request.get(`${env.server.url}/users/me`)).status(), 401);
    await other.close();

    // The policy is shown as you type; the server checks the current password.
    await page.getByLabel('New password').fill('too short');
    await page.getByText(/must be at least 15 characters/).waitFor();
    await page.getByLabel('Current password').fill('not the current password');
    await page.getByLabel('New password').fill('a brand new long passphrase');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('is not your current password').waitFor();
    await page.getByLabel('Current password').fill(KEEPER.password);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Password changed.').waitFor();
    await shot(page, '15-password-changed');
    // Still signed in here, under a new session id.
    assert.equal(await page.evaluate(async () => (await fetch('/users/me')).status), 200);
  });

  test('the sign-in page shows the throttling message with the wait time', async () => {
    const { context, page } = await newPage(env.browser, env.problems);
    // Five wrong guesses (the server's default limit) from this client...
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const form = { username: 'throttled', password: `wrong guess number ${attempt}` };
      assert.equal((await context.request.post(`${env.server.url}/login`, { form })).status(), 401);
    }
    // ...and the form says how long to wait.
    await open(page, `${env.server.url}/sign-in`);
    await signIn(page, { username: 'throttled', password: 'one more guess' });
    await page.getByTestId('error').filter({ hasText: /Too many failed sign-in attempts. Try again in \d+ seconds/ }).waitFor();
    await shot(page, '16-throttled');
  });
});

describe('API documentation', () => {
  test('/docs renders the OpenAPI document and "Try it out" works with the session cookie', async () => {
    const { context, page } = await newPage(env.browser, env.problems);
    const login = await context.request.post(`${env.server.url}/login`, { form: DEMO });
    assert.equal(login.status(), 200);
    await page.goto(`${env.server.url}/docs`);
    await page.locator('.swagger-ui .info .title').filter({ hasText: 'Tracklist' }).waitFor();
    const operation = page.locator('#operations-account-me');
    await operation.locator('.opblock-summary').click();
    await operation.getByRole('button', { name: 'Try it out' }).click();
    await operation.getByRole('button', { name: 'Execute' }).click();
    await operation.locator('.live-responses-table .response-col_status').filter({ hasText: '200' }).waitFor();
    assert.match(await operation.locator('.live-responses-table').innerText(), /"username": "john"/);
    await shot(page, '17-api-docs');
  });
});

test('no console errors, page errors or CSP violations happened', () => {
  assert.deepEqual(env.problems, []);
});
