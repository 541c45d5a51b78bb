// The browser client (clients/js/comet.js, comet.mjs) in headless Chromium,
// against a real gateway behind nginx (tests/integration/browser_client_test.cpp
// starts them). Usage: node client_test.js CASE BASE_URL [OTHER_ORIGIN_URL or
// TOKENS_JSON]
// Prints "ok: CASE" and exits 0 when the case passes.
'use strict';
const { launch, check, until } = require('./chromium');

const [caseName, base, other] = process.argv.slice(2);

async function metric(name) {
  const text = await (await fetch(new URL('/comet/stats', base))).text();
  const m = new RegExp('^' + name + ' (\\d+)', 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

const parked = (n) => until(n + ' parked request(s)', async () => (await metric('comet_parked_requests')) === n);

// Publishes over the gateway's HTTP publish (--publish-allow 127.0.0.1) and
// returns once the gateway has received every message from Redis, so that
// a request arriving afterwards can only get them through its cursor.
async function publish(...items) {
  const before = await metric('comet_messages_received_total');
  for (const [channel, data] of items) {
    const r = await fetch(new URL('/comet/publish?channel=' + channel, base), { method: 'POST', body: data });
    check(r.status === 202 || r.status === 200, 'publish answered ' + r.status + ': ' + (await r.text()));
  }
  await until('the gateway to receive ' + items.length + ' message(s)',
    async () => (await metric('comet_messages_received_total')) >= before + items.length);
}

const record = (page) => page.evaluate(() => window.record);

async function received(page, n) {
  await until(n + ' message(s) in the page', async () => (await record(page)).messages.length >= n);
  return (await record(page)).messages;
}

function same(got, want, what) {
  check(JSON.stringify(got) === JSON.stringify(want),
    what + ': got ' + JSON.stringify(got) + ', want ' + JSON.stringify(want));
}

// Holds back the page's next request whose URL matches: resolves with its
// route once the page has sent it within `ms` (continue or abort it
// later). Every other request goes through.
function hold(page, test, ms = 10000) {
  return new Promise((resolve, reject) => {
    let held = false;
    const timer = setTimeout(() => reject(new Error('no request held within ' + ms + ' ms')), ms);
    timer.unref();  // a hold nobody waits for any more keeps no one waiting
    page.route('**/*', (route) => {
      if (held || !test(route.request().url())) return route.continue();
      held = true;
      clearTimeout(timer);
      resolve(route);
    });
  });
}

function requests(page) {
  const urls = [];
  page.on('request', (r) => urls.push(r.url()));
  return urls;
}

// Script errors of every page, printed when a case fails.
const pageErrors = [];
function watch(target) {
  target.on('page', (page) => page.on('pageerror', (e) => pageErrors.push(page.url() + ': ' + e.message)));
  return target;
}

const param = (url, name) => new URL(url).searchParams.get(name);

// Presence cases: a page of one user on the presence channel p.room (the
// tokens, {user: token}, come from the test's PHP in argv).
async function present(context, user, options) {
  const page = await context.newPage();
  await page.goto(new URL('/test/client.html', base).href);
  await page.evaluate(([token, o]) => startClient('/comet/', ['p.room'], Object.assign({ token }, o)),
    [JSON.parse(other)[user], options || {}]);
  return page;
}

// Waits until the page's presence callbacks are as many as `want`, then
// compares them.
async function saw(page, want, what) {
  await until(what, async () => (await record(page)).presence.length >= want.length).catch(() => {});
  same((await record(page)).presence, want, what);
}

const members = (page) => page.evaluate(() => client.members('p.room').map((m) =>
  m.user + (m.info ? '=' + m.info.name : '')).join(','));

// Checks for `ms` that the page's presence callbacks stay `want`: what
// must not happen within the gateway's presence grace and beyond.
async function stays(page, want, what, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    same((await record(page)).presence, want, what);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const cases = {
  // A stream through nginx delivers; when it ends and cannot be opened
  // again (the next one never answers), the client long-polls from the
  // cursor of the last event: what was published meanwhile arrives once.
  async 'sse-to-longpoll'(context) {
    const page = await context.newPage();
    const urls = requests(page);
    await page.goto(new URL('/test/client.html', base).href);
    await page.evaluate(() => startClient('/comet/', ['t.sse'], { sseTimeout: 3000 }));
    await until('the stream to open', async () => urls.some((u) => u.includes('/comet/sse?')));
    await parked(1);
    await publish(['t.sse', 'm1'], ['t.sse', 'm2'], ['t.sse', 'm3']);
    await received(page, 3);
    // The gateway ends streams after --sse-lifetime; the next one is held.
    const held = await hold(page, (u) => u.includes('/comet/sse?'));
    await publish(['t.sse', 'm4'], ['t.sse', 'm5']);
    await received(page, 5);
    await publish(['t.sse', 'm6']);
    const r = await record(page);
    same(await received(page, 6), ['t.sse:m1', 't.sse:m2', 't.sse:m3', 't.sse:m4', 't.sse:m5', 't.sse:m6'],
      'messages');
    same(r.transports, ['sse', 'longpoll'], 'transports');
    const firstPoll = urls.find((u, i) => u.includes('/comet/poll?') && i > urls.lastIndexOf(held.request().url()));
    check(firstPoll, 'no long-poll after the stream: ' + urls.join('\n'));
    same(param(firstPoll, 'since'), r.cursors[2], 'cursor of the first long-poll');
    check(r.errors.some((e) => /buffered on the way/.test(e)), 'no fallback reported: ' + r.errors);
    await held.abort().catch(() => {});
  },

  // nginx buffers the stream (fastcgi_buffering on, X-Accel-Buffering
  // ignored): nothing of it reaches the page, which long-polls instead and
  // still gets what was published while it waited for the stream.
  async buffered(context) {
    const page = await context.newPage();
    const urls = requests(page);
    await page.goto(new URL('/test/client.html', base).href);
    await page.evaluate(() => startClient('/buffered/', ['t.buf'], { sseTimeout: 2000 }));
    await until('the stream to be requested', async () => urls.some((u) => u.includes('/buffered/sse?')));
    await parked(1);
    await publish(['t.buf', 'b1']);
    await received(page, 1);
    await until('a parked long-poll', async () => urls.some((u) => u.includes('/buffered/poll?') &&
      param(u, 'timeout') !== '0'));
    await publish(['t.buf', 'b2']);
    same(await received(page, 2), ['t.buf:b1', 't.buf:b2'], 'messages');
    same((await record(page)).transports, ['sse', 'longpoll'], 'transports');
  },

  // A page of another origin: the gateway allows no CORS origin, so its
  // XHR long-poll fails, while JSONP (a script tag) delivers.
  async jsonp(context) {
    const page = await context.newPage();
    const urls = requests(page);
    await page.goto(new URL('/test/client.html', other).href);
    const mount = new URL('/comet/', base).href;
    await page.evaluate((url) => startClient(url, ['t.jsonp'], { transport: 'jsonp', timeout: 10 }), mount);
    await parked(1);
    await publish(['t.jsonp', 'j1']);
    await received(page, 1);
    await publish(['t.jsonp', 'j2'], ['t.jsonp', 'j3']);
    same(await received(page, 3), ['t.jsonp:j1', 't.jsonp:j2', 't.jsonp:j3'], 'messages');
    const polls = urls.filter((u) => u.includes('/comet/poll?'));
    check(polls.length >= 2 && polls.every((u) => /^_cometJsonp\d+$/.test(param(u, 'callback'))),
      'polls without callback: ' + polls.join('\n'));
    same((await record(page)).transports, ['jsonp'], 'transports');
    // The control: the same page's XHR long-poll is refused by CORS.
    const xhr = await context.newPage();
    await xhr.goto(new URL('/test/client.html', other).href);
    await xhr.evaluate((url) => startClient(url, ['t.jsonp'], { transport: 'longpoll', timeout: 1, minBackoff: 60000 }), mount);
    await until('the cross-origin XHR to fail', async () => (await record(xhr)).errors.length > 0);
    same((await record(xhr)).messages, [], 'messages over cross-origin XHR');
  },

  // An old-style page (jQuery, ES5) in a browser without fetch, Promise,
  // EventSource and AbortController: two tabs chat through the demo's PHP.
  async legacy(context) {
    await context.addInitScript(() => {
      delete window.fetch;
      delete window.EventSource;
      delete window.AbortController;
      delete window.Promise;
    });
    const a = await context.newPage();
    const b = await context.newPage();
    const url = new URL('/test/legacy.html', base).href;
    await a.goto(url);
    await b.goto(url);
    await parked(2);
    // (waitForFunction needs the page's Promise, deleted here.)
    const shows = (page, text) => until(JSON.stringify(text) + ' in the log',
      async () => (await page.innerText('#log')).includes(text));
    for (const p of [a, b]) {
      same(await p.evaluate(() => [typeof window.fetch, typeof window.Promise, typeof window.EventSource]),
        ['undefined', 'undefined', 'undefined'], 'the old browser');
      same(await p.getAttribute('#status', 'data-transport'), 'longpoll', 'transport');
    }
    await a.fill('#name', 'ann');
    await a.fill('#text', 'hello from an old page');
    await a.click('#send');
    await shows(b, 'hello from an old page');
    await b.fill('#name', 'bob');
    await b.fill('#text', 'hi ann');
    await b.click('#send');
    await shows(a, 'hi ann');
    same(await a.$$eval('#log li', (lis) => lis.map((li) => li.textContent)),
      ['ann hello from an old page', 'bob hi ann'], 'tab A log');
  },

  // subscribe and unsubscribe through the ES module, over SSE or
  // long-poll: the request that names the new set of channels starts from
  // the cursor, so what was published in between arrives, once.
  async subscribe(context, transport) {
    const page = await context.newPage();
    await page.goto(new URL('/test/module.html', base).href);
    await page.waitForFunction(() => window.moduleReady === true, null, { timeout: 10000 });
    await page.evaluate((t) => startClient('/comet/', ['t.a'], { transport: t }), transport);
    await parked(1);
    await publish(['t.a', 'a1']);
    await received(page, 1);
    const both = hold(page, (u) => param(u, 'channel') === 't.a,t.b' && param(u, 'timeout') !== '0', 3000);
    await page.evaluate(() => client.subscribe('t.b'));
    let route = await both;
    await publish(['t.a', 'a2'], ['t.b', 'b1']);
    await route.continue();
    same(await received(page, 3), ['t.a:a1', 't.a:a2', 't.b:b1'], 'after subscribe');
    const one = hold(page, (u) => param(u, 'channel') === 't.b', 3000);
    await page.evaluate(() => client.unsubscribe('t.a'));
    route = await one;
    await publish(['t.a', 'a3'], ['t.b', 'b2']);
    await route.continue();
    await received(page, 4);
    await publish(['t.b', 'b3']);
    same(await received(page, 5), ['t.a:a1', 't.a:a2', 't.b:b1', 't.b:b2', 't.b:b3'], 'after unsubscribe');
    const r = await record(page);
    same(r.transports, [transport], 'transports');
    same(r.gaps, [], 'gaps');
  },

  // pauseWhenHidden: a hidden tab holds no request; shown again, it
  // continues from its cursor (what was published meanwhile arrives once).
  async 'pause-when-hidden'(context) {
    const page = await context.newPage();
    await page.goto(new URL('/test/client.html', base).href);
    await page.evaluate(() => startClient('/comet/', ['t.hide'], { pauseWhenHidden: true }));
    await parked(1);
    await publish(['t.hide', 'h1']);
    await received(page, 1);
    const show = (hidden) => page.evaluate((h) => {
      Object.defineProperty(document, 'hidden', { value: h, configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
    }, hidden);
    await show(true);
    await parked(0);
    await publish(['t.hide', 'h2']);
    await show(false);
    await received(page, 2);
    await publish(['t.hide', 'h3']);
    same(await received(page, 3), ['t.hide:h1', 't.hide:h2', 't.hide:h3'], 'messages');
  },

  // A refusal's Retry-After is a lower bound on the backoff: with one
  // parked request per client (--max-parked-per-client 1), a second tab's
  // polls get 429 with Retry-After: 5, and it waits at least that long
  // between them, where its own backoff would retry within a second.
  async 'retry-after'(context) {
    const first = await context.newPage();
    await first.goto(new URL('/test/client.html', base).href);
    await first.evaluate(() => startClient('/comet/', ['t.retry'], { transport: 'longpoll' }));
    await parked(1);
    const second = await context.newPage();
    const sent = [];
    second.on('request', (r) => { if (r.url().includes('/comet/poll?')) sent.push(Date.now()); });
    await second.goto(new URL('/test/client.html', base).href);
    await second.evaluate(() => startClient('/comet/', ['t.retry'], { transport: 'longpoll' }));
    await until('three refused polls', async () => sent.length >= 3, 20000);
    const r = await record(second);
    check(r.codes.length >= 2 && r.codes.every((c) => c === '429 too_many_requests'), 'errors ' + r.codes);
    for (let i = 1; i < sent.length; i++) {
      check(sent[i] - sent[i - 1] >= 4900, 'polls ' + (sent[i] - sent[i - 1]) + ' ms apart');
    }
  },

  // shared: three tabs, one parked poll. The leader tab is closed while a
  // message is on its way: another tab leads from the cursor the tabs
  // heard last, and every tab left has every message once, in order.
  // `lease`: without Web Locks and BroadcastChannel (a localStorage lease
  // and storage events instead).
  async shared(context, lease) {
    if (lease) {
      await context.addInitScript(() => {
        delete Navigator.prototype.locks;
        delete window.BroadcastChannel;
      });
    }
    const tabs = [];
    for (let i = 0; i < 3; i++) {
      const tab = await context.newPage();
      await tab.goto(new URL('/test/client.html', base).href);
      await tab.evaluate(() => startClient('/comet/', ['t.shared'], { transport: 'longpoll', shared: true }));
      tabs.push(tab);
    }
    const leaders = async (pages) => {
      const out = [];
      for (const p of pages) if (await p.evaluate(() => client.leader)) out.push(p);
      return out;
    };
    await parked(1);
    same(await tabs[0].evaluate(() => [typeof navigator.locks, typeof window.BroadcastChannel]),
      lease ? ['undefined', 'undefined'] : ['object', 'function'], 'Web Locks and BroadcastChannel');
    same((await leaders(tabs)).length, 1, 'leaders of three tabs');
    await publish(['t.shared', 's1'], ['t.shared', 's2']);
    for (const t of tabs) same(await received(t, 2), ['t.shared:s1', 't.shared:s2'], 'messages in each tab');
    same(await metric('comet_parked_requests'), 1, 'parked polls of three tabs');
    const [leader] = await leaders(tabs);
    const rest = tabs.filter((t) => t !== leader);
    // The next leader's first poll is held until s4 has reached the
    // gateway: s4 can only come through the cursor the tabs kept.
    const firstPoll = Promise.race(rest.map((t) => hold(t, (u) => u.includes('/comet/poll?'))));
    await publish(['t.shared', 's3']);
    await leader.close();
    const route = await firstPoll;
    await publish(['t.shared', 's4']);
    await route.continue();
    await until('a new leader', async () => (await leaders(rest)).length === 1);
    await parked(1);
    await publish(['t.shared', 's5']);
    const want = ['t.shared:s1', 't.shared:s2', 't.shared:s3', 't.shared:s4', 't.shared:s5'];
    for (const t of rest) same(await received(t, 5), want, 'messages after the leader left');
    same((await leaders(rest)).length, 1, 'leaders of two tabs');
    same(await metric('comet_parked_requests'), 1, 'parked polls of two tabs');
    for (const t of rest) same((await record(t)).gaps, [], 'gaps');
  },

  // onHere, onJoin, onLeave and members() (--presence p.*, grace 2 s): ann,
  // then bob in two tabs. Bob's second tab starts from the earliest: the
  // list, then the buffered joins it already includes, which call nothing.
  // Bob's first tab closing is no leave; his last is.
  async presence(context) {
    const a = await present(context, 'ann');
    await saw(a, ['here:p.room:', 'join:p.room:ann'], "ann's tab");
    const b1 = await present(context, 'bob', { transport: 'longpoll' });
    await saw(a, ['here:p.room:', 'join:p.room:ann', 'join:p.room:bob'], "ann's tab after bob came");
    await saw(b1, ['here:p.room:ann', 'join:p.room:bob'], "bob's first tab");
    const b2 = await present(context, 'bob', { since: 'earliest' });
    await until("bob's second tab to get the list and both joins",
      async () => (await record(b2)).messages.length >= 3);
    same((await record(b2)).presence, ['here:p.room:ann,bob'], "bob's second tab");
    for (const p of [a, b1, b2]) same(await members(p), 'ann=Ann,bob=Bob', 'members()');
    const before = (await record(a)).presence;
    await b1.close();
    // Bob's second tab keeps him: several graces, and no leave anywhere.
    await stays(a, before, "ann's tab after bob's first tab closed", 5000);
    same((await record(b2)).presence, ['here:p.room:ann,bob'], "bob's second tab after his first closed");
    await b2.close();
    await saw(a, before.concat(['leave:p.room:bob']), "ann's tab after bob's last tab closed");
    same(await members(a), 'ann=Ann', "ann's members()");
  },

  // shared: ann's second tab follows the first one's connection: it gets
  // the list from the leader (onHere with ann and bob, who came before it),
  // then carl's join and leave as the leader does. When the leader's tab
  // closes it leads with the list it has: dave's join adds to it.
  async 'presence-shared'(context, lease) {
    if (lease) {
      await context.addInitScript(() => {
        delete Navigator.prototype.locks;
        delete window.BroadcastChannel;
      });
    }
    const shared = { shared: true, transport: 'longpoll' };
    const leader = await present(context, 'ann', shared);
    await until('a leader', () => leader.evaluate(() => client.leader));
    await saw(leader, ['here:p.room:', 'join:p.room:ann'], "ann's first tab");
    await present(context, 'bob');
    await saw(leader, ['here:p.room:', 'join:p.room:ann', 'join:p.room:bob'], "ann's first tab after bob came");
    const follower = await present(context, 'ann', shared);
    await saw(follower, ['here:p.room:ann,bob'], "ann's second tab");
    same(await follower.evaluate(() => [client.leader, client.transport]), [false, null], 'the second tab');
    same(await members(follower), 'ann=Ann,bob=Bob', "the second tab's members()");
    const carl = await present(context, 'carl');
    await saw(follower, ['here:p.room:ann,bob', 'join:p.room:carl'], "ann's second tab after carl came");
    await carl.close();
    const heard = ['here:p.room:ann,bob', 'join:p.room:carl', 'leave:p.room:carl'];
    await saw(follower, heard, "ann's second tab after carl left");
    same((await record(leader)).presence.slice(3), heard.slice(1), "the leader's callbacks since then");
    await leader.close();
    await until('the second tab to lead', () => follower.evaluate(() => client.leader));
    await present(context, 'dave');
    await saw(follower, heard.concat(['join:p.room:dave']), "ann's second tab leading");
    same(await members(follower), 'ann=Ann,bob=Bob,dave=Dave', "the new leader's members()");
  },
};
cases['presence-shared-locks'] = (context) => cases['presence-shared'](context, false);
cases['presence-shared-lease'] = (context) => cases['presence-shared'](context, true);
cases['shared-locks'] = (context) => cases.shared(context, false);
cases['shared-lease'] = (context) => cases.shared(context, true);
cases['subscribe-sse'] = (context) => cases.subscribe(context, 'sse');
cases['subscribe-longpoll'] = (context) => cases.subscribe(context, 'longpoll');

async function main() {
  const run = cases[caseName];
  if (!run || ['subscribe', 'shared', 'presence-shared'].includes(caseName)) throw new Error('unknown case ' + caseName);
  const browser = await launch();
  try {
    const context = watch(await browser.newContext());
    await run(context);
    console.log('ok: ' + caseName);
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(e);
  if (pageErrors.length) console.error('script errors in the pages:\n' + pageErrors.join('\n'));
  process.exit(1);
});
