// Laravel Broadcasting through the gateway: pages using laravel-echo (npm)
// with clients/js/comet-echo.js, in headless Chromium, against the test app
// of tests/laravel (Debian's Laravel on php-fpm behind nginx) with Redis and
// a gateway (tests/integration/laravel_test.cpp starts them).
// Usage: node laravel_test.js CASE BASE_URL; prints "ok: CASE" and exits 0
// when the case passes.
'use strict';
const { launch } = require('./chromium');

const [caseName, base] = process.argv.slice(2);

function check(cond, what) {
  if (!cond) throw new Error(what);
}

async function until(what, fn, ms = 15000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('timed out waiting for ' + what);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function same(got, want, what) {
  check(JSON.stringify(got) === JSON.stringify(want),
    what + ': got ' + JSON.stringify(got) + ', want ' + JSON.stringify(want));
}

const record = (page) => page.evaluate(() => window.record);

// A page logged in as `user` (none: a guest), its comet requests recorded.
async function open(context, user) {
  const page = await context.newPage();
  page.urls = [];
  page.on('request', (r) => { if (r.url().includes('/comet/')) page.urls.push(r.url()); });
  await page.goto(new URL('/echo.html' + (user ? '?user=' + user : ''), base).href);
  await until('the page to load', () => page.evaluate(() => window.ready === true));
  return page;
}

// Follows channels and waits until the gateway has answered a request
// naming each.
async function follow(page, ...items) {
  for (const [name, event] of items) await page.evaluate(([n, e]) => window.follow(n, e), [name, event]);
  await until('subscribed to ' + items.map((i) => i[0]), async () => {
    const r = await record(page);
    return items.every(([name]) => r.subscribed.includes(name));
  });
}

async function fire(page, params) {
  same(await page.evaluate((p) => window.fire(p), params), 200, 'POST /fire');
}

async function events(page, n) {
  await until(n + ' event(s) in ' + page.url(), async () => (await record(page)).events.length >= n);
  return (await record(page)).events;
}

// The channels the page's latest request to the gateway named.
function lastChannels(page) {
  const u = page.urls[page.urls.length - 1];
  return u ? new URL(u).searchParams.get('channel').split(',') : [];
}

const cases = {
  // A public channel: Echo's namespaced name ('OrderShipped' is
  // App\Events\OrderShipped) and a broadcastAs name ('.invoice.paid').
  async public(context) {
    const page = await open(context);
    await follow(page, ['orders', 'OrderShipped'], ['news', '.invoice.paid']);
    await fire(page, { event: 'shipped', channel: 'orders', text: 'o1' });
    await fire(page, { event: 'paid', channel: 'news', text: 'n1' });
    // Not listened for: 'paid' on orders is invoice.paid, not OrderShipped.
    await fire(page, { event: 'paid', channel: 'orders', text: 'o2' });
    await fire(page, { event: 'shipped', channel: 'orders', text: 'o3' });
    same(await events(page, 3), [['orders', 'OrderShipped', 'o1'], ['news', '.invoice.paid', 'n1'],
      ['orders', 'OrderShipped', 'o3']], 'events');
    check(!page.urls.some((u) => new URL(u).searchParams.has('token')), 'a token for public channels');
  },

  // A private channel: user 7 is allowed private-user.7 and receives;
  // user 8 gets 403 from /broadcasting/auth, the gateway refuses it a poll
  // on the channel, and it receives nothing.
  async private(context) {
    const ann = await open(context, '7');
    const bob = await open(context, '8');
    await follow(ann, ['private-user.7', 'OrderShipped']);
    const auth = bob.waitForResponse((r) => r.url().endsWith('/broadcasting/auth'));
    await bob.evaluate(() => window.follow('private-user.7', 'OrderShipped'));
    same((await auth).status(), 403, '/broadcasting/auth for user 8');
    await until('the refusal in the page', async () => (await record(bob)).errors.length === 1);
    same((await record(bob)).errors, [['private-user.7', 403]], 'errors');
    const direct = await bob.evaluate(async () => {
      const r = await fetch('/comet/poll?channel=private-user.7&timeout=0');
      return [r.status, (await r.json()).error];
    });
    same(direct, [403, 'token_required'], 'a poll on the private channel without a token');
    await follow(bob, ['orders', 'OrderShipped']);
    await fire(ann, { event: 'shipped', channel: 'private-user.7', text: 'p1' });
    await fire(ann, { event: 'shipped', channel: 'orders', text: 'o1' });
    same(await events(ann, 1), [['private-user.7', 'OrderShipped', 'p1']], 'user 7');
    same(await events(bob, 1), [['orders', 'OrderShipped', 'o1']], 'user 8');
    // The client's own requests (they carry "_") never named it.
    const named = bob.urls.filter((u) => new URL(u).searchParams.has('_') &&
      new URL(u).searchParams.get('channel').split(',').includes('private-user.7'));
    same(named, [], "user 8's requests naming private-user.7");
  },

  // toOthers(): the page that fired (its X-Socket-ID) does not get its own
  // event; another page does. The next event, to everyone, reaches both.
  async 'to-others'(context) {
    const a = await open(context, '7');
    const b = await open(context, '7');
    await follow(a, ['orders', 'OrderShipped'], ['private-user.7', 'OrderShipped']);
    await follow(b, ['orders', 'OrderShipped'], ['private-user.7', 'OrderShipped']);
    check(await a.evaluate(() => window.Echo.socketId()) !== await b.evaluate(() => window.Echo.socketId()),
      'two pages with one socket id');
    await fire(a, { event: 'shipped', channel: 'orders', text: 'others', others: '1' });
    await fire(a, { event: 'shipped', channel: 'private-user.7', text: 'others-private', others: '1' });
    await fire(a, { event: 'shipped', channel: 'orders', text: 'all' });
    await fire(a, { event: 'shipped', channel: 'private-user.7', text: 'all-private' });
    same(await events(b, 4), [['orders', 'OrderShipped', 'others'], ['private-user.7', 'OrderShipped', 'others-private'],
      ['orders', 'OrderShipped', 'all'], ['private-user.7', 'OrderShipped', 'all-private']], 'the other page');
    // Each channel's events arrive in order: had the page kept its own, it
    // would have them before these.
    await until('both events to everyone in the sending page', async () => {
      const texts = (await record(a)).events.map((e) => e[2]);
      return texts.includes('all') && texts.includes('all-private');
    });
    same((await record(a)).events.map((e) => e[2]).sort(), ['all', 'all-private'], 'the sending page');
  },

  // leave(): the page's requests stop naming the channel, and what is
  // fired on it no longer reaches the page; the channel it kept still does.
  async leave(context) {
    const page = await open(context, '7');
    await follow(page, ['orders', 'OrderShipped'], ['news', 'OrderShipped']);
    await fire(page, { event: 'shipped', channel: 'orders', text: 'o1' });
    same(await events(page, 1), [['orders', 'OrderShipped', 'o1']], 'before leave');
    await page.evaluate(() => window.Echo.leave('orders'));
    await until('a request without orders', async () => !lastChannels(page).includes('orders') &&
      lastChannels(page).includes('news'));
    await fire(page, { event: 'shipped', channel: 'orders', text: 'o2' });
    await fire(page, { event: 'shipped', channel: 'news', text: 'n1' });
    same(await events(page, 2), [['orders', 'OrderShipped', 'o1'], ['news', 'OrderShipped', 'n1']], 'after leave');
  },
};

async function main() {
  const run = cases[caseName];
  if (!run) throw new Error('unknown case ' + caseName);
  const browser = await launch();
  const errors = [];
  try {
    const context = await browser.newContext();
    context.on('page', (p) => p.on('pageerror', (e) => errors.push(p.url() + ': ' + e.message)));
    try {
      await run(context);
    } catch (e) {
      if (errors.length) e.message += '\nscript errors in the pages:\n' + errors.join('\n');
      throw e;
    }
    console.log('ok: ' + caseName);
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
