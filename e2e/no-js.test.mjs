// The app with JavaScript turned off: every page arrives rendered by the server, and the
// forms and links do the work the wasm would (progressive enhancement).
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { DEMO, newPage, screenshots, serverAndBrowser } from './harness.mjs';

const env = serverAndBrowser();
const shot = screenshots('no-js-');

const rows = (page) => page.locator('table.tracks tbody tr');

/** Fills the sign-in form and submits it; without JavaScript the browser posts it itself. */
async function signIn(page, { username, password }) {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign in' }).click()]);
}

async function submit(page, button) {
  await Promise.all([page.waitForNavigation(), button.click()]);
}

describe('without JavaScript', () => {
  let context;
  let page;
  before(async () => {
    ({ context, page } = await newPage(env.browser, env.problems, { javaScriptEnabled: false }));
    // Enough tracks for a second page (the demo has 4; a page holds 20).
    const api = await env.browser.newContext();
    assert.equal((await api.request.post(`${env.server.url}/login`, { form: DEMO })).status(), 200);
    for (let n = 1; n <= 20; n += 1) {
      const track = { title: `Filler ${String(n).padStart(2, '0')}`, artist: 'Session Band' };
      assert.equal((await api.request.post(`${env.server.url}/tracks`, { data: track })).status(), 201);
    }
    await api.close();
  });

  test('the library arrives rendered, with its tracks and a sign-in link', async () => {
    const response = await page.goto(`${env.server.url}/`);
    assert.equal(response.status(), 200);
    assert.equal(await rows(page).count(), 20);
    await page.getByRole('link', { name: 'Sign in' }).waitFor();
    assert.equal(await page.title(), 'Library · Tracklist');
    await shot(page, '01-library');
  });

  test('paging is links', async () => {
    await submit(page, page.getByRole('link', { name: 'Next →' }));
    assert.equal(new URL(page.url()).searchParams.get('skip'), '20');
    assert.equal(await rows(page).count(), 4);
    await page.getByText('Page 2').waitFor();
    await submit(page, page.getByRole('link', { name: '← Previous' }));
    assert.equal(await rows(page).count(), 20);
  });

  test('search is a GET form', async () => {
    await page.getByLabel('Search by title or artist').fill('blur');
    await submit(page, page.getByRole('button', { name: 'Search' }));
    assert.equal(new URL(page.url()).searchParams.get('q'), 'blur');
    assert.equal(await rows(page).count(), 1);
    assert.match(await rows(page).innerText(), /Song 2/);
    assert.equal(await page.getByLabel('Search by title or artist').inputValue(), 'blur');
    await shot(page, '02-search');
  });

  test('a wrong password gets the form again with the message and the username', async () => {
    await submit(page, page.getByRole('link', { name: 'Sign in' }));
    await signIn(page, { username: 'john', password: 'not the right password' });
    await page.getByTestId('error').filter({ hasText: 'Incorrect username or password' }).waitFor();
    assert.equal(await page.getByLabel('Username').inputValue(), 'john');
    assert.equal(await page.getByLabel('Password').inputValue(), '');
    await shot(page, '03-wrong-password');
  });

  test('signing in lands on the library, signed in', async () => {
    await signIn(page, DEMO);
    assert.equal(new URL(page.url()).pathname, '/');
    await page.getByTestId('current-user').filter({ hasText: 'john' }).waitFor();
    await page.getByRole('button', { name: 'Sign out', exact: true }).waitFor();
    // Adding, editing and deleting need the script: not offered without it.
    assert.equal(await page.getByText('Add a track').count(), 0);
    assert.equal(await page.getByRole('button', { name: 'Edit' }).count(), 0);
  });

  test('the account page lists the sessions and revokes another one', async () => {
    const other = await env.browser.newContext();
    assert.equal((await other.request.post(`${env.server.url}/login`, { form: DEMO })).status(), 200);
    await submit(page, page.getByTestId('current-user'));
    assert.equal(new URL(page.url()).pathname, '/account');
    await page.getByTestId('account-username').filter({ hasText: 'john' }).waitFor();
    const before = await page.getByTestId('session').count();
    assert.ok(before >= 2, `${before} sessions listed`);
    await shot(page, '04-account');
    await submit(page, page.getByRole('button', { name: 'Revoke' }).first());
    assert.equal(new URL(page.url()).pathname, '/account');
    assert.equal(await page.getByTestId('session').count(), before - 1);
    assert.equal((await other.request.get(`${env.server.url}/users/me`)).status(), 401);
    await other.close();
  });

  test('signing out is the header form', async () => {
    await submit(page, page.getByRole('button', { name: 'Sign out', exact: true }));
    await page.getByRole('link', { name: 'Sign in' }).waitFor();
    assert.equal((await context.request.get(`${env.server.url}/users/me`)).status(), 401);
  });

  test('a page that needs a session goes to sign-in and comes back', async () => {
    await page.goto(`${env.server.url}/account`);
    assert.equal(new URL(page.url()).pathname, '/sign-in');
    await signIn(page, DEMO);
    assert.equal(new URL(page.url()).pathname, '/account');
    await submit(page, page.getByRole('button', { name: 'Sign out', exact: true }));
  });

  test('signing up: a refused name gets the form again; a good one signs in', async () => {
    await page.goto(`${env.server.url}/sign-up`);
    await page.getByLabel('Username').fill('john');
    await page.getByLabel('Password').fill('another long passphrase');
    await submit(page, page.getByRole('button', { name: 'Create account' }));
    await page.getByTestId('error').filter({ hasText: 'That username is taken' }).waitFor();
    assert.equal(await page.getByLabel('Username').inputValue(), 'john');
    await page.getByLabel('Username').fill('quietreader');
    await page.getByLabel('Password').fill('another long passphrase');
    await submit(page, page.getByRole('button', { name: 'Create account' }));
    assert.equal(new URL(page.url()).pathname, '/');
    await page.getByTestId('current-user').filter({ hasText: 'quietreader' }).waitFor();
    await shot(page, '05-signed-up');
  });

  test('an unknown address is the not-found page with status 404', async () => {
    const response = await page.goto(`${env.server.url}/no/such/page`);
    assert.equal(response.status(), 404);
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
  });
});

test('no console errors, page errors or CSP violations happened', () => {
  assert.deepEqual(env.problems, []);
});
