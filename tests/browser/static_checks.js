// Checks of the browser client that need no browser and no server
// (tests/integration/browser_client_test.cpp runs them through node).
// Usage: node static_checks.js CASE; prints "ok: CASE" and exits 0 when it passes.
'use strict';
const fs = require('fs');
const path = require('path');

const dir = path.join(__dirname, '..', '..', 'clients', 'js');
const scripts = ['comet.js', 'comet-echo.js'];

function check(cond, what) {
  if (!cond) throw new Error(what);
}

// Built-ins an ES5 browser lacks: the parser accepts them, old browsers
// would fail at run time.
const NOT_ES5_GLOBALS = ['fetch', 'Promise', 'AbortController', 'URLSearchParams', 'Map', 'Set',
  'WeakMap', 'Symbol', 'Proxy', 'Reflect', 'TextDecoder'];
const NOT_ES5_METHODS = ['assign', 'includes', 'startsWith', 'endsWith', 'find', 'findIndex',
  'padStart', 'padEnd', 'repeat', 'entries', 'fill'];

function walk(node, visit) {
  if (!node || typeof node.type !== 'string') return;
  visit(node);
  for (const key of Object.keys(node)) {
    const v = node[key];
    if (Array.isArray(v)) v.forEach((n) => walk(n, visit));
    else if (v && typeof v === 'object' && typeof v.type === 'string') walk(v, visit);
  }
}

const cases = {
  // comet.js and comet-echo.js parse as ECMAScript 5 (any ES2015 syntax is
  // an error) and name none of the later built-ins.
  es5() {
    const acorn = require('acorn');
    const found = [];
    for (const file of scripts) {
      const text = fs.readFileSync(path.join(dir, file), 'utf8');
      const ast = acorn.parse(text, { ecmaVersion: 5, sourceType: 'script', locations: true });
      walk(ast, (n) => {
        const at = ' at ' + file + ':' + n.loc.start.line;
        if (n.type === 'Identifier' && NOT_ES5_GLOBALS.includes(n.name)) found.push(n.name + at);
        if (n.type === 'MemberExpression' && !n.computed && NOT_ES5_METHODS.includes(n.property.name)) {
          found.push('.' + n.property.name + at);
        }
      });
    }
    check(found.length === 0, 'not ES5: ' + found.join(', '));
  },

  // comet.d.ts, comet.d.mts and comet-echo.d.ts type-check with what a typed page writes
  // (types_check.ts, strict), and declare exactly the client's public methods.
  types() {
    const ts = require('typescript');
    const program = ts.createProgram([path.join(__dirname, 'types_check.ts')], {
      noEmit: true, strict: true, target: ts.ScriptTarget.ES2017, module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler, types: [], lib: ['lib.es2017.d.ts', 'lib.dom.d.ts'],
    });
    const diagnostics = ts.getPreEmitDiagnostics(program);
    check(diagnostics.length === 0, ts.formatDiagnostics(diagnostics, {
      getCanonicalFileName: (f) => f, getCurrentDirectory: () => __dirname, getNewLine: () => '\n',
    }));
    const dts = program.getSourceFile(path.join(dir, 'comet.d.ts'));
    const declared = { methods: [], properties: [] };
    ts.forEachChild(dts, (node) => {
      if (!ts.isClassDeclaration(node) || node.name.text !== 'CometClient') return;
      for (const m of node.members) {
        if (ts.isMethodDeclaration(m)) declared.methods.push(m.name.text);
        if (ts.isPropertyDeclaration(m)) declared.properties.push(m.name.text);
      }
    });
    const { CometClient } = require(path.join(dir, 'comet.js'));
    const methods = Object.keys(CometClient.prototype).filter((k) => !k.endsWith('_')).sort();
    check(JSON.stringify(declared.methods.sort()) === JSON.stringify(methods),
      'comet.d.ts declares methods ' + declared.methods + ', comet.js has ' + methods);
    const client = new CometClient('/comet/', ['a']);
    for (const p of declared.properties) check(p in client, 'comet.d.ts declares ' + p + ', comet.js has none');
    // comet-echo.d.ts declares the connector's public methods.
    const echoDts = program.getSourceFile(path.join(dir, 'comet-echo.d.ts'));
    const echoDeclared = [];
    ts.forEachChild(echoDts, (node) => {
      if (!ts.isClassDeclaration(node) || node.name.text !== 'CometConnector') return;
      for (const m of node.members) if (ts.isMethodDeclaration(m)) echoDeclared.push(m.name.text);
    });
    const { CometConnector } = require(path.join(dir, 'comet-echo.js'));
    const echoMethods = Object.keys(CometConnector.prototype).filter((k) => !k.endsWith('_')).sort();
    check(JSON.stringify(echoDeclared.sort()) === JSON.stringify(echoMethods),
      'comet-echo.d.ts declares methods ' + echoDeclared + ', comet-echo.js has ' + echoMethods);
  },

  // The script (CommonJS here) and the ES module give the same class, as
  // its default export too, and the script also sets the global.
  async module() {
    const script = require(path.join(dir, 'comet.js'));
    const mod = await import(path.join(dir, 'comet.mjs'));
    check(typeof script.CometClient === 'function', 'comet.js exports no CometClient');
    check(mod.CometClient === script.CometClient, 'comet.mjs exports another CometClient');
    check(mod.default === script.CometClient, 'comet.mjs default export differs');
    check(globalThis.CometClient === script.CometClient, 'no global CometClient');
  },

  // Bad use is a TypeError at once, saying what is wrong.
  'bad-use'() {
    const { CometClient } = require(path.join(dir, 'comet.js'));
    const throws = (fn, pattern) => {
      try {
        fn();
      } catch (e) {
        check(e instanceof TypeError && pattern.test(e.message), 'wrong error: ' + e);
        return;
      }
      throw new Error('no error for ' + fn);
    };
    throws(() => new CometClient('/comet/', []), /at least one channel/);
    throws(() => new CometClient('/comet/', 'chat'), /at least one channel/);
    throws(() => new CometClient('/comet/', ['chat 42']), /bad channel name "chat 42"/);
    throws(() => new CometClient('/comet/', ['x'.repeat(129)]), /bad channel name/);
    throws(() => new CometClient('/comet/', ['a'], { transport: 'websocket' }), /transport must be/);
    throws(() => new CometClient('', ['a']), /url/);
    throws(() => new CometClient('/comet/', ['a'], { timeout: '25' }), /timeout must be/);
    throws(() => new CometClient('/comet/', ['a'], { timeout: -1 }), /timeout must be/);
    throws(() => new CometClient('/comet/', ['a'], { since: 5 }), /since must be/);
    // No EventSource in node: SSE cannot be asked for.
    throws(() => new CometClient('/comet/', ['a'], { transport: 'sse' }), /needs EventSource/);
    throws(() => CometClient('/comet/', ['a']), /with new/);
    throws(() => new CometClient('/comet/', ['a'], { shared: true, pauseWhenHidden: true }), /do not go together/);
    const shared = new CometClient('/comet/', ['a'], { shared: true });
    throws(() => shared.subscribe('b'), /not available with shared/);
    const c = new CometClient('/comet/poll', ['a', 'a', 'b:c@d']);
    throws(() => c.subscribe('no/slash'), /bad channel name/);
    throws(() => c.unsubscribe(''), /bad channel name/);
    check(JSON.stringify(c.channels) === '["a","b:c@d"]', 'channels ' + c.channels);
    // The poll URL of earlier versions stands for its mount.
    check(c.url === '/comet/', 'mount ' + c.url);
    check(c.requestUrl('poll', { timeout: 25 }) === '/comet/poll?channel=a,b%3Ac%40d&timeout=25',
      c.requestUrl('poll', { timeout: 25 }));
  },

  // A presence channel's list, fed entries as a poll answer carries them:
  // a 'here' replaces it, a join of a member listed or a leave of one not
  // listed (repeats) call nothing, members() is a copy, unsubscribe
  // forgets the list.
  'presence-lists'() {
    const { CometClient } = require(path.join(dir, 'comet.js'));
    const calls = [];
    const show = (members) => members.map((m) => m.user + (m.info ? '=' + m.info.name : '')).join(',');
    const c = new CometClient('/comet/', ['p', '__proto__'], {
      onHere: (channel, members) => calls.push('here ' + channel + ' ' + show(members)),
      onJoin: (channel, m) => calls.push('join ' + channel + ' ' + show([m])),
      onLeave: (channel, m) => calls.push('leave ' + channel + ' ' + show([m])),
      onMessage: (m) => calls.push('message ' + m.presence),
      onError: (e) => calls.push('error ' + e.message),
    });
    const entry = (channel, presence, more) => Object.assign({ channel, id: 'x', presence }, more);
    const answer = (...messages) => {
      calls.length = 0;
      c.deliver_({ cursor: 'c', messages });
      return calls.filter((k) => !k.startsWith('message')).join('; ');
    };
    const expect = (got, want, what) => check(got === want, what + ': got "' + got + '", want "' + want + '"');
    expect(answer(entry('p', 'here', { members: [{ user: 'bob', info: { name: 'B' } }, { user: 'ann' }] }),
      entry('p', 'join', { user: 'ann', info: { name: 'A' } }), entry('p', 'join', { user: 'bob' })),
    'here p ann,bob=B', 'a list that has the joins after it');
    expect(show(c.members('p')), 'ann=A,bob', 'a listed join updates the info');
    expect(answer(entry('p', 'join', { user: 'carl', info: { name: 'C' } }), entry('p', 'leave', { user: 'dave' }),
      entry('p', 'leave', { user: 'ann' }), entry('p', 'leave', { user: 'ann' })),
    'join p carl=C; leave p ann=A', 'a join, a leave of one not listed, a leave twice');
    expect(calls.filter((k) => k.startsWith('message')).length, 4, 'entries to onMessage');
    expect(show(c.members('p')), 'bob,carl=C', 'members');
    const copy = c.members('p');
    copy.pop();
    copy[0].user = 'zed';
    expect(show(c.members('p')), 'bob,carl=C', 'members after changing a copy');
    expect(answer(entry('__proto__', 'join', { user: 'ann' })), 'join __proto__ ann', 'a channel named __proto__');
    expect(answer(entry('p', 'here', { members: [{ user: 'dave' }] })), 'here p dave', 'a new list');
    expect(show(c.members('__proto__')), 'ann', 'the other channel');
    c.onJoin = () => { throw new Error('handler'); };
    expect(answer(entry('p', 'join', { user: 'eve' }), entry('p', 'leave', { user: 'dave' })),
      'error handler; leave p dave', 'a handler that throws');
    c.unsubscribe('p');
    expect(show(c.members('p')), '', 'members after unsubscribe');
    expect(show(c.members('__proto__')), 'ann', 'the channel still subscribed');
    expect(c.members('nobody').length, 0, 'a channel with no list');
  },
};

(async () => {
  const name = process.argv[2];
  check(cases[name], 'unknown case ' + name);
  await cases[name]();
  console.log('ok: ' + name);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
