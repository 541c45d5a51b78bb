// The laravel-echo connector (clients/js/comet-echo.js) with laravel-echo
// from npm in node, against canned answers: a fake XMLHttpRequest plays
// /broadcasting/auth and the gateway, so each case sees exactly what the
// connector asks and answers it as the gateway's wire format says
// (docs/API.md). No browser, no server (tests/integration/laravel_test.cpp
// runs it). Usage: node echo_connector_test.js CASE; prints "ok: CASE".
'use strict';
const path = require('path');

function check(cond, what) {
  if (!cond) throw new Error(what);
}

function same(got, want, what) {
  check(JSON.stringify(got) === JSON.stringify(want),
    what + ': got ' + JSON.stringify(got) + ', want ' + JSON.stringify(want));
}

// Requests the connector and its CometClient have sent and not yet had
// answered.
const pending = [];
class FakeXhr {
  constructor() {
    this.headers = {};
    this.readyState = 0;
  }
  open(method, url) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(name, value) {
    this.headers[name] = value;
  }
  getResponseHeader() {
    return null;
  }
  send(body) {
    this.body = body || null;
    pending.push(this);
  }
  abort() {
    this.aborted = true;
    const i = pending.indexOf(this);
    if (i >= 0) pending.splice(i, 1);
  }
  respond(status, body) {
    const i = pending.indexOf(this);
    if (i >= 0) pending.splice(i, 1);
    this.status = status;
    this.responseText = typeof body === 'string' ? body : JSON.stringify(body);
    this.readyState = 4;
    if (this.onreadystatechange) this.onreadystatechange();
  }
  get params() {
    return new URL(this.url, 'http://site').searchParams;
  }
  get form() {
    return new URLSearchParams(this.body || '');
  }
}
globalThis.XMLHttpRequest = FakeXhr;

// The next request that `test` accepts, once sent (bounded).
async function next(what, test = () => true) {
  const deadline = Date.now() + 5000;
  for (;;) {
    const found = pending.find((x) => !x.aborted && test(x));
    if (found) return found;
    if (Date.now() > deadline) {
      throw new Error('no request for ' + what + '; pending: ' + pending.map((x) => x.method + ' ' + x.url + ' ' + (x.body || '')).join(' | '));
    }
    await new Promise((r) => setTimeout(r, 2));
  }
}

const isAuth = (x) => x.url === '/broadcasting/auth';
const isPoll = (x) => x.url.startsWith('/comet/poll?');
const channelsOf = (x) => x.params.get('channel').split(',').sort();
// A parked poll (the one with timeout=0 before a stream is not asked for here: no EventSource in node).
const poll = (what, test = () => true) => next(what, (x) => isPoll(x) && test(x));

async function echo(options = {}) {
  const { default: Echo } = await import('laravel-echo');
  const { CometConnector } = require(path.join(__dirname, '..', '..', 'clients', 'js', 'comet-echo.js'));
  return new Echo(Object.assign({
    broadcaster: CometConnector,
    cometUrl: '/comet/',
    auth: { headers: { 'X-Test': 'yes' } },
    comet: { minBackoff: 1, maxBackoff: 2 },
  }, options));
}

const event = (channel, id, name, data, socket = null) =>
  ({ channel, id, data: JSON.stringify({ event: name, data, socket }) });

const cases = {
  // here/joining/leaving from the gateway's presence entries: the members
  // once, joins and leaves by user (a user already there, or one never
  // there, changes nothing), and the whole list again after a gap.
  async presence() {
    const e = await echo();
    const calls = [];
    const chat = e.join('chat.1')
      .here((members) => calls.push(['here', members]))
      .joining((m) => calls.push(['joining', m]))
      .leaving((m) => calls.push(['leaving', m]))
      .listen('.said', (d) => calls.push(['said', d.text]));
    const auth = await next('the auth', isAuth);
    same([auth.method, auth.form.get('channel_name'), auth.form.get('socket_id'), auth.form.getAll('channels[]')],
      ['POST', 'presence-chat.1', e.socketId(), []], 'auth request');
    same(auth.headers['X-Test'], 'yes', 'auth headers from the options');
    same(auth.headers['X-Socket-ID'], e.socketId(), 'X-Socket-ID on the auth');
    auth.respond(200, { token: 'T1', channels: ['presence-chat.1'], expires_in: 3600,
      channel_data: { user_id: 7, user_info: { id: 7, name: 'Ann' } } });
    let p = await poll('the first poll');
    same([channelsOf(p), p.params.get('token')], [['presence-chat.1'], 'T1'], 'first poll');
    p.respond(200, { cursor: 'c1', messages: [
      { channel: 'presence-chat.1', id: 'i1', presence: 'here',
        members: [{ user: '7', info: { name: 'Ann' } }, { user: '8', info: { name: 'Bob' } }] }] });
    p = await poll('the second poll', (x) => x.params.get('since') === 'c1');
    p.respond(200, { cursor: 'c2', messages: [
      { channel: 'presence-chat.1', id: 'i2', presence: 'join', user: '9', info: { name: 'Carl' } },
      { channel: 'presence-chat.1', id: 'i3', presence: 'join', user: '7', info: { name: 'Ann' } },
      event('presence-chat.1', 'i4', 'said', { text: 'hi' }),
      { channel: 'presence-chat.1', id: 'i5', presence: 'leave', user: '8' },
      { channel: 'presence-chat.1', id: 'i6', presence: 'leave', user: '10' }] });
    p = await poll('the third poll', (x) => x.params.get('since') === 'c2');
    p.respond(200, { cursor: 'c3', gaps: ['presence-chat.1'], messages: [
      { channel: 'presence-chat.1', id: 'i7', presence: 'here',
        members: [{ user: '7', info: { name: 'Ann' } }, { user: '11' }] },
      { channel: 'presence-chat.1', id: 'i8', presence: 'leave', user: '11' }] });
    await poll('the fourth poll', (x) => x.params.get('since') === 'c3');
    // Each member as its info (the site's channel callback's value); {}
    // for a member without one.
    const ann = { name: 'Ann' }, bob = { name: 'Bob' }, carl = { name: 'Carl' };
    same(calls, [['here', [ann, bob]], ['joining', carl], ['said', 'hi'], ['leaving', bob],
      ['here', [ann, {}]], ['leaving', {}]], 'presence callbacks');
    // A here() registered later hears the members at once.
    const late = [];
    chat.here((members) => late.push(members.length));
    same(late, [1], 'a late here()');
    e.disconnect();
  },

  // The page's own user (the auth answer's channel_data) is in every list
  // here() gets, also when the gateway's lacks it (before its own join
  // has come), and its own joins and leaves call nothing, as with Pusher.
  async 'presence-own-user'() {
    const e = await echo();
    const calls = [];
    const chat = e.join('chat.1')
      .here((members) => calls.push(['here', members]))
      .joining((m) => calls.push(['joining', m]))
      .leaving((m) => calls.push(['leaving', m]));
    const auth = await next('the auth', isAuth);
    auth.respond(200, { token: 'T1', channels: ['presence-chat.1'], expires_in: 3600,
      channel_data: { user_id: 7, user_info: { id: 7, name: 'Ann' } } });
    let p = await poll('the first poll');
    p.respond(200, { cursor: 'c1', messages: [
      { channel: 'presence-chat.1', id: 'i1', presence: 'here', members: [{ user: '8', info: { name: 'Bob' } }] }] });
    p = await poll('the second poll', (x) => x.params.get('since') === 'c1');
    p.respond(200, { cursor: 'c2', messages: [
      { channel: 'presence-chat.1', id: 'i2', presence: 'join', user: '7', info: { id: 7, name: 'Ann' } },
      { channel: 'presence-chat.1', id: 'i3', presence: 'join', user: '9', info: { name: 'Carl' } },
      { channel: 'presence-chat.1', id: 'i4', presence: 'leave', user: '7' }] });
    p = await poll('the third poll', (x) => x.params.get('since') === 'c2');
    // After a gap (a Redis restart that lost the members, say), a list
    // without the page's user again.
    p.respond(200, { cursor: 'c3', gaps: ['presence-chat.1'], messages: [
      { channel: 'presence-chat.1', id: 'i5', presence: 'here', members: [{ user: '9', info: { name: 'Carl' } }] },
      { channel: 'presence-chat.1', id: 'i6', presence: 'join', user: '7', info: { id: 7, name: 'Ann' } }] });
    await poll('the fourth poll', (x) => x.params.get('since') === 'c3');
    const ann = { id: 7, name: 'Ann' }, bob = { name: 'Bob' }, carl = { name: 'Carl' };
    same(calls, [['here', [bob, ann]], ['joining', carl], ['here', [carl, ann]]], 'presence callbacks');
    const late = [];
    chat.here((members) => late.push(members));
    same(late, [[carl, ann]], 'a late here()');
    e.disconnect();
  },

  // Event names, toOthers and leave on canned answers.
  async events() {
    const e = await echo();
    const got = [];
    e.channel('orders').listen('OrderShipped', (d) => got.push('shipped ' + d.n))
      .listen('.order.cancelled', (d) => got.push('cancelled ' + d.n))
      .listenToAll((name, d) => got.push('all ' + name + ' ' + d.n));
    check(!pending.some(isAuth), 'a public channel was authorised');
    let p = await poll('the first poll');
    same([channelsOf(p), p.params.get('token')], [['orders'], null], 'first poll');
    p.respond(200, { cursor: 'c1', messages: [
      event('orders', '1', 'App\\Events\\OrderShipped', { n: 1 }),
      event('orders', '2', 'order.cancelled', { n: 2 }),
      event('orders', '3', 'App\\Events\\OrderShipped', { n: 3 }, e.socketId()),
      event('orders', '4', 'App\\Events\\OrderShipped', { n: 4 }, '123.456')] });
    e.channel('orders').stopListening('.order.cancelled');
    e.channel('news');
    p = await poll('a poll on both', (x) => channelsOf(x).length === 2);
    same([channelsOf(p), p.params.get('since')], [['news', 'orders'], 'c1'], 'poll after channel()');
    p.respond(200, { cursor: 'c2', messages: [event('orders', '5', 'order.cancelled', { n: 5 })] });
    e.leave('orders');
    p = await poll('a poll without orders', (x) => channelsOf(x).length === 1);
    same([channelsOf(p), p.params.get('since')], [['news'], 'c2'], 'poll after leave()');
    p.respond(200, { cursor: 'c3', messages: [event('orders', '6', 'App\\Events\\OrderShipped', { n: 6 })] });
    await poll('the next poll', (x) => x.params.get('since') === 'c3');
    same(got, ['shipped 1', 'all OrderShipped 1', 'cancelled 2', 'all .order.cancelled 2', 'shipped 4',
      'all OrderShipped 4', 'all .order.cancelled 5'], 'events');
    e.disconnect();
  },

  // One token for the page's guarded channels: each auth names the others
  // held; a refused channel gets its error callback and stays out of the
  // polls; a gateway 403 (an expired token) fetches a new one for all.
  async tokens() {
    const e = await echo();
    const errors = [];
    e.private('user.7');
    let a = await next('the first auth', isAuth);
    a.respond(200, { token: 'T1', channels: ['private-user.7'], expires_in: 3600 });
    let p = await poll('the first poll');
    e.join('chat.1');
    a = await next('the second auth', isAuth);
    same([a.form.get('channel_name'), a.form.getAll('channels[]')], ['presence-chat.1', ['private-user.7']],
      'second auth');
    a.respond(200, { token: 'T2', channels: ['presence-chat.1', 'private-user.7'], expires_in: 3600 });
    p = await poll('a poll on both', (x) => channelsOf(x).length === 2);
    same([channelsOf(p), p.params.get('token')], [['presence-chat.1', 'private-user.7'], 'T2'], 'poll with T2');
    e.private('user.8').error((err) => errors.push(err));
    a = await next('the third auth', isAuth);
    same([a.form.get('channel_name'), a.form.getAll('channels[]').sort()],
      ['private-user.8', ['presence-chat.1', 'private-user.7']], 'third auth');
    a.respond(403, '{"message":""}');
    same(errors.map((x) => [x.type, x.status]), [['AuthError', 403]], 'error callback');
    check(!pending.some((x) => isPoll(x) && channelsOf(x).includes('private-user.8')), 'polled a refused channel');
    // The gateway refuses the token (expired): a new one, for both.
    p.respond(403, { error: 'token_expired', message: 'the token has expired' });
    a = await next('the renewal', isAuth);
    same([a.form.get('channel_name'), a.form.getAll('channels[]')], ['private-user.7', ['presence-chat.1']],
      'renewal');
    // This time the app's callback refuses presence-chat.1: left out.
    const refused = [];
    e.connector.channels['presence-chat.1'].error((err) => refused.push(err.status));
    a.respond(200, { token: 'T3', channels: ['private-user.7'], expires_in: 3600 });
    same(refused, [403], 'a held channel left out of the renewal');
    p = await poll('a poll with T3', (x) => x.params.get('token') === 'T3');
    same(channelsOf(p), ['private-user.7'], 'channels with T3');
    e.disconnect();
  },
};

(async () => {
  const name = process.argv[2];
  check(cases[name], 'unknown case ' + name);
  await cases[name]();
  console.log('ok: ' + name);
  process.exit(0);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
