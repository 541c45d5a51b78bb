// Laravel Broadcasting through the gateway: pages using laravel-echo (npm)
// with clients/js/comet-echo.js, in headless Chromium, against the test app
// of tests/laravel (Debian's Laravel on php-fpm behind nginx) with Redis and
// a gateway (tests/integration/laravel_test.cpp starts them).
// Usage: node laravel_test.js CASE BASE_URL; prints "ok: CASE" and exits 0
// when the case passes.
'use strict';
const { launch, check, until } = require('./chromium');

const [caseName, base] = process.argv.slice(2);

// Fails if `fn` turns true within `ms`: for what must not happen.
async function never(what, fn, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await fn()) throw new Error(what);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function same(got, want, what) {
  check(JSON.stringify(got) === JSON.stringify(want),
    what + ': got ' + JSON.stringify(got) + ', want ' + JSON.stringify(want));
}

const record = (page) => page.evaluate(() => window.record);

// A page logged in as `user` (none: a guest), its comet requests recorded;
// `transport` the CometClient's (default 'auto': SSE in Chromium).
async function open(context, user, transport) {
  const page = await context.newPage();
  page.urls = [];
  page.on('request', (r) => { if (r.url().includes('/comet/')) page.urls.push(r.url()); });
  const query = new URLSearchParams();
  if (user) query.set('user', user);
  if (transport) query.set('transport', transport);
  await page.goto(new URL('/echo.html?' + query, base).href);
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

  // Echo.join('chat.1') (the gateway runs with --presence 'presence-*'):
  // here() lists who is there, the page's own user included; joining()
  // comes once per user (a second tab is none), leaving() once its last tab
  // has gone, a grace later; each member is what the app's presence
  // callback returned. A user the callback refuses gets 403 and never
  // appears. listen() gets the app's events on the presence channel.
  async presence(context, transport) {
    const info = (id) => ({ id, name: 'User ' + id });
    const calls = async (page) => (await record(page)).presence;
    const ann = await open(context, '7', transport);
    await follow(ann, ['presence-chat.1', 'OrderShipped']);
    await until("user 7's here", async () => (await calls(ann)).length > 0);
    same(await calls(ann), [['here', [info('7')]]], "user 7's here");

    const bob1 = await open(context, '8', transport);
    await follow(bob1, ['presence-chat.1', 'OrderShipped']);
    await until("user 8's here", async () => (await calls(bob1)).length > 0);
    same(await calls(bob1), [['here', [info('7'), info('8')]]], "user 8's here");
    await until("user 8's join in user 7's page", async () => (await calls(ann)).length > 1);
    same(await calls(ann), [['here', [info('7')]], ['joining', info('8')]], 'user 7 after user 8 came');

    const bob2 = await open(context, '8', transport);
    await follow(bob2, ['presence-chat.1', 'OrderShipped']);
    await until("the here of user 8's second tab", async () => (await calls(bob2)).length > 0);
    same(await calls(bob2), [['here', [info('7'), info('8')]]], "the here of user 8's second tab");

    const carl = await open(context, '9', transport);
    const auth = carl.waitForResponse((r) => r.url().endsWith('/broadcasting/auth'));
    await carl.evaluate(() => window.follow('presence-chat.1', 'OrderShipped'));
    same((await auth).status(), 403, '/broadcasting/auth for user 9');
    await until('the refusal in the page', async () => (await record(carl)).errors.length === 1);
    same((await record(carl)).errors, [['presence-chat.1', 403]], "user 9's errors");
    const direct = await carl.evaluate(async () => {
      const r = await fetch('/comet/poll?channel=presence-chat.1&timeout=0');
      return [r.status, (await r.json()).error];
    });
    same(direct, [403, 'token_required'], 'a poll on the presence channel without a token');

    await fire(ann, { event: 'shipped', channel: 'presence-chat.1', text: 'c1' });
    for (const [page, who] of [[ann, 'user 7'], [bob1, 'user 8'], [bob2, "user 8's second tab"]]) {
      same(await events(page, 1), [['presence-chat.1', 'OrderShipped', 'c1']], 'events of ' + who);
    }

    // One of user 8's tabs closes: the other keeps user 8 there (three
    // graces without a leave).
    await bob1.close();
    await never('user 8 left with a tab open', async () => (await calls(ann)).length > 2, 3000);
    const closed = Date.now();
    await bob2.close();
    await until("user 8's leave", async () => (await calls(ann)).length > 2);
    const after = Date.now() - closed;
    same(await calls(ann), [['here', [info('7')]], ['joining', info('8')], ['leaving', info('8')]],
      "user 7's presence callbacks");
    check(after >= 1000, 'user 8 left ' + after + ' ms after its last tab closed, before the grace');
    same(await calls(carl), [], "user 9's presence callbacks");
    const used = await ann.evaluate(() => window.Echo.connector.client_.transport);
    check(!transport || used === transport, 'the pages used ' + used);
    console.log("user 8's leave came " + after + ' ms after its last tab closed (' + used + ')');
  },

  // The same with long polls.
  'presence-longpoll': (context) => cases.presence(context, 'longpoll'),

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
