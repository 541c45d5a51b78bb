/*
 * comet.js: the browser client of comet-gateway. One ES5 file, no
 * dependencies, no build step: a UMD script that defines the global
 * CometClient and, under CommonJS or AMD, exports {CometClient: ...}.
 * It needs XMLHttpRequest and JSON; EventSource is used where it exists.
 *
 *   var client = new CometClient('/comet/', ['chat.42'], {
 *     onMessage: function (msg) { ... msg.channel, msg.id, msg.data (string) or msg.bytes },
 *     onGap: function (channels) { ... messages may have been missed: reload state ... },
 *     onError: function (err) { ... },      // optional, for display
 *     onResponse: function () { ... },      // optional: a poll answered, a stream opened
 *     onTransport: function (name) { ... }, // optional: 'sse', 'longpoll' or 'jsonp' now
 *     onHere: function (channel, members) { ... },  // optional, presence channels: the list
 *     onJoin: function (channel, member) { ... },    // a member came: {user, info}
 *     onLeave: function (channel, member) { ... },   // a member went
 *     transport: 'auto',                    // 'auto' | 'sse' | 'longpoll' | 'jsonp'
 *     since: 'earliest',                    // optional: also what is still buffered
 *     timeout: 25,                          // seconds per poll
 *     token: '...',                         // with access control
 *     sseTimeout: 5000,                     // ms for a stream to show it is not buffered
 *     pauseWhenHidden: false,               // no connection while the page is hidden
 *     minBackoff: 1000, maxBackoff: 30000   // ms
 *   });
 *   client.start();  client.subscribe('chat.7');  client.unsubscribe('chat.42');  client.stop();
 *   client.members('lobby.1');  // a presence channel's members now: [{user, info}, ...]
 *
 * url is the gateway's mount ('/comet/'); a URL ending in /poll or /sse (the
 * form earlier versions took) stands for its mount too.
 *
 * It follows the cursor of every answer and event, whichever transport
 * carried it, so no message is delivered twice and none is lost silently:
 * when the gateway cannot vouch for continuity it names the channels in a
 * gap, and onGap is called before the messages that follow it.
 */
(function (root, factory) {
  'use strict';
  var api = factory(root);
  if (typeof define === 'function' && define.amd) define([], function () { return api; });
  if (typeof module === 'object' && module && module.exports) module.exports = api;
  if (root) root.CometClient = api.CometClient;
})(typeof globalThis !== 'undefined' ? globalThis : typeof self !== 'undefined' ? self : this,
function (root) {
  'use strict';

  var CHANNEL = /^[A-Za-z0-9_.:@\-]{1,128}$/;
  var TRANSPORTS = { auto: true, sse: true, longpoll: true, jsonp: true };
  var jsonpSeq = 0;
  // Every request of this page gets its own `_` parameter: browsers hold an
  // identical GET back until the first one completes (Chromium's cache
  // lock), which would serialise the polls of several tabs and clients.
  var requestSeq = 0;
  var pageId = Math.floor(Math.random() * 2176782336).toString(36);
  function unique() {
    return pageId + '.' + (++requestSeq).toString(36);
  }

  function noop() {}

  function isArray(v) {
    return Object.prototype.toString.call(v) === '[object Array]';
  }

  function indexOf(list, item) {
    for (var i = 0; i < list.length; i++) if (list[i] === item) return i;
    return -1;
  }

  // A presence channel's member as the page gets it: {user}, and info when
  // its token had one.
  function member(m) {
    var out = { user: m.user };
    if (m.info !== undefined) out.info = m.info;
    return out;
  }

  function copyMembers(list) {
    var out = [];
    for (var i = 0; i < list.length; i++) out.push(member(list[i]));
    return out;
  }

  // Where user is, or belongs, in a list sorted by user.
  function position(list, user) {
    var lo = 0;
    var hi = list.length;
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (list[mid].user < user) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  function checkChannel(channel) {
    if (typeof channel !== 'string' || !CHANNEL.test(channel)) {
      throw new TypeError('CometClient: bad channel name ' + JSON.stringify(channel) +
        ' (1 to 128 of A-Z a-z 0-9 _ . : @ -)');
    }
  }

  function hasEventSource() {
    return typeof root.EventSource === 'function' || typeof root.EventSource === 'object';
  }

  function decodeBase64(text) {
    var bin = root.atob(text);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return bytes;
  }

  // An Error for a refused request, carrying the status and the gateway's
  // error code ({"error": code, "message": text}) when the body has them.
  function httpError(status, text) {
    var body = null;
    try { body = JSON.parse(text); } catch (e) { body = null; }
    var code = body && typeof body.error === 'string' ? body.error : '';
    var message = body && typeof body.message === 'string' ? body.message : String(text || '').slice(0, 200);
    var err = new Error(status === 0 ? 'CometClient: network error'
      : 'CometClient: HTTP ' + status + (code ? ' ' + code : '') + (message ? ': ' + message : ''));
    err.status = status;
    err.code = code;
    return err;
  }

  function CometClient(url, channels, options) {
    if (!(this instanceof CometClient)) throw new TypeError('CometClient: call it with new');
    if (typeof url !== 'string' || url === '') throw new TypeError('CometClient: url must be a non-empty string');
    if (!isArray(channels) || channels.length === 0) throw new TypeError('CometClient: at least one channel');
    var o = options || {};
    var transport = o.transport === undefined ? 'auto' : o.transport;
    if (typeof transport !== 'string' || !TRANSPORTS.hasOwnProperty(transport)) {
      throw new TypeError("CometClient: transport must be 'auto', 'sse', 'longpoll' or 'jsonp', not " +
        JSON.stringify(transport));
    }
    if (transport === 'sse' && !hasEventSource()) throw new TypeError('CometClient: transport sse needs EventSource');
    if (o.timeout !== undefined && !(typeof o.timeout === 'number' && o.timeout >= 0 && o.timeout < 1e7)) {
      throw new TypeError('CometClient: timeout must be a number of seconds, not ' + JSON.stringify(o.timeout));
    }
    if (o.since !== undefined && o.since !== null && typeof o.since !== 'string') {
      throw new TypeError('CometClient: since must be a string (a cursor or "earliest")');
    }
    if (o.shared && o.pauseWhenHidden) throw new TypeError('CometClient: shared and pauseWhenHidden do not go together');
    this.channels = [];
    for (var i = 0; i < channels.length; i++) {
      checkChannel(channels[i]);
      if (indexOf(this.channels, channels[i]) < 0) this.channels.push(channels[i]);
    }
    var q = url.indexOf('?');
    var path = q < 0 ? url : url.slice(0, q);
    var endpoint = /^(.*\/)(poll|sse)$/.exec(path);
    this.url = endpoint ? endpoint[1] : path.charAt(path.length - 1) === '/' ? path : path + '/';
    this.query = q < 0 ? '' : url.slice(q + 1);
    this.onMessage = o.onMessage || noop;
    this.onGap = o.onGap || noop;
    this.onError = o.onError || noop;
    this.onResponse = o.onResponse || noop;
    this.onTransport = o.onTransport || noop;
    this.onHere = o.onHere || noop;
    this.onJoin = o.onJoin || noop;
    this.onLeave = o.onLeave || noop;
    this.mode_ = transport;
    this.timeout = o.timeout === undefined ? 25 : o.timeout;
    this.token = o.token || null;
    this.cursor = o.since || null;
    this.sseTimeout = o.sseTimeout || 5000;
    this.pauseWhenHidden = !!o.pauseWhenHidden;
    // shared: one tab of this browser (the leader) holds the connection for
    // every client with the same url and channels; the others hear from it.
    this.shared = !!o.shared;
    this.leader = false;
    this.minBackoff = o.minBackoff || 1000;
    this.maxBackoff = o.maxBackoff || 30000;
    // The transport in use ('sse', 'longpoll', 'jsonp'), null while stopped.
    this.transport = null;
    this.running = false;
    this.failures_ = 0;       // consecutive failed requests, for the backoff
    this.sseFailed_ = false;  // auto: the stream did not come through, long-poll instead
    this.generation_ = 0;     // answers of an abandoned request are ignored
    this.cancel_ = null;      // abandons the request in flight
    this.timer_ = null;
    this.visibility_ = null;
    this.post_ = null;        // shared: sends to the other tabs
    this.unshare_ = null;     // shared: leaves the group
    this.share_token_ = null; // shared: the current membership
    // The member lists of the presence channels, sorted by user, under
    // ' ' + channel (a channel may be named __proto__).
    this.lists_ = {};
    // shared: a follower keeps the lists only from the leader's on.
    this.synced_ = true;
  }

  CometClient.prototype.start = function () {
    if (this.running) return;
    this.running = true;
    this.sseFailed_ = false;
    this.failures_ = 0;
    var self = this;
    if (this.pauseWhenHidden && typeof document !== 'undefined' && document.addEventListener) {
      this.visibility_ = function () { self.restart_(); };
      document.addEventListener('visibilitychange', this.visibility_, false);
    }
    if (this.shared) {
      this.share_();
      return;
    }
    this.leader = true;
    this.connect_();
  };

  // Stops all requests. The cursor is kept: start() again resumes from it.
  CometClient.prototype.stop = function () {
    this.running = false;
    this.abandon_();
    if (this.unshare_) this.unshare_();
    this.unshare_ = null;
    this.share_token_ = null;
    this.post_ = null;
    this.leader = false;
    if (this.visibility_) document.removeEventListener('visibilitychange', this.visibility_, false);
    this.visibility_ = null;
    this.setTransport_(null);
  };

  // Adds a channel; the next request names it and continues from the cursor.
  CometClient.prototype.subscribe = function (channel) {
    checkChannel(channel);
    this.unshared_('subscribe');
    if (indexOf(this.channels, channel) >= 0) return;
    this.channels.push(channel);
    this.restart_();
  };

  // Removes a channel; with none left the client waits for a subscribe().
  CometClient.prototype.unsubscribe = function (channel) {
    checkChannel(channel);
    this.unshared_('unsubscribe');
    var i = indexOf(this.channels, channel);
    if (i < 0) return;
    this.channels.splice(i, 1);
    delete this.lists_[' ' + channel];
    this.restart_();
  };

  // A presence channel's members as this client knows them (its last list,
  // then the joins and leaves after it), sorted by user: a copy.
  CometClient.prototype.members = function (channel) {
    checkChannel(channel);
    return copyMembers(this.lists_[' ' + channel] || []);
  };

  CometClient.prototype.restart_ = function () {
    if (!this.running) return;
    this.abandon_();
    this.connect_();
  };

  CometClient.prototype.abandon_ = function () {
    this.generation_++;
    if (this.cancel_) this.cancel_();
    this.cancel_ = null;
    if (this.timer_) clearTimeout(this.timer_);
    this.timer_ = null;
  };

  CometClient.prototype.setTransport_ = function (name) {
    if (this.transport === name) return;
    this.transport = name;
    if (name) this.onTransport(name);
  };

  CometClient.prototype.hidden_ = function () {
    return this.pauseWhenHidden && typeof document !== 'undefined' && document.hidden === true;
  };

  CometClient.prototype.connect_ = function () {
    this.timer_ = null;
    if (!this.running || !this.leader || this.channels.length === 0 || this.hidden_()) return;
    var t = this.mode_;
    if (t === 'auto') t = hasEventSource() && !this.sseFailed_ ? 'sse' : 'longpoll';
    // A stream opened without a cursor would start at "now" again on every
    // reconnect or fallback, and so would the tab that leads after this one:
    // a poll that answers at once fetches one first.
    if (!this.cursor && (t === 'sse' || (this.shared && t === 'longpoll'))) {
      this.poll_(0);
      return;
    }
    this.setTransport_(t);
    if (t === 'sse') this.openStream_();
    else if (t === 'jsonp') this.jsonp_();
    else this.poll_(this.timeout);
  };

  CometClient.prototype.requestUrl = function (endpoint, extra) {
    var names = [];
    for (var i = 0; i < this.channels.length; i++) names.push(encodeURIComponent(this.channels[i]));
    var q = [];
    if (this.query) q.push(this.query);
    q.push('channel=' + names.join(','));
    if (this.cursor) q.push('since=' + encodeURIComponent(this.cursor));
    if (this.token) q.push('token=' + encodeURIComponent(this.token));
    for (var k in extra) if (extra.hasOwnProperty(k)) q.push(k + '=' + encodeURIComponent(extra[k]));
    return this.url + endpoint + '?' + q.join('&');
  };

  // Full-jitter backoff (a random wait up to a ceiling that doubles with
  // each failure), never shorter than the gateway's Retry-After.
  CometClient.prototype.retry_ = function (err, retryAfterSeconds) {
    if (!this.running) return;
    if (err) this.report_(err);
    this.failures_++;
    var ceiling = Math.min(this.maxBackoff, this.minBackoff * Math.pow(2, Math.min(this.failures_ - 1, 20)));
    var delay = Math.max(Math.random() * ceiling, (retryAfterSeconds || 0) * 1000);
    var self = this;
    this.timer_ = setTimeout(function () { self.connect_(); }, delay);
  };

  CometClient.prototype.report_ = function (err) {
    try { this.onError(err); } catch (e) { /* the page's handler: nothing to do */ }
  };

  CometClient.prototype.answered_ = function (body) {
    this.failures_ = 0;
    var generation = this.generation_;
    this.onResponse();
    this.deliver_(body);
    // Unless a handler stopped, subscribed or unsubscribed meanwhile.
    if (generation === this.generation_) this.connect_();
  };

  // A poll answer other than 200: a cursor the gateway refuses starts over
  // from now after a gap; anything else is retried.
  CometClient.prototype.refused_ = function (status, text, retryAfter) {
    var err = httpError(status, text);
    if (status === 400 && err.code === 'bad_cursor' && this.cursor) {
      this.cursor = null;
      this.onGap(this.channels.slice());
      this.connect_();
      return;
    }
    this.retry_(err, parseInt(retryAfter || '0', 10) || 0);
  };

  CometClient.prototype.poll_ = function (timeout) {
    var self = this;
    var generation = ++this.generation_;
    var xhr = new XMLHttpRequest();
    xhr.open('GET', this.requestUrl('poll', { timeout: timeout, _: unique() }), true);
    // A poll the network silently dropped is given up well after the
    // gateway would have answered it.
    xhr.timeout = (timeout + 15) * 1000;
    xhr.onreadystatechange = function () {
      if (xhr.readyState !== 4 || generation !== self.generation_) return;
      self.cancel_ = null;
      if (xhr.status !== 200) {
        self.refused_(xhr.status, xhr.responseText, xhr.getResponseHeader('Retry-After'));
        return;
      }
      var body;
      try { body = JSON.parse(xhr.responseText); } catch (e) { self.retry_(e); return; }
      self.answered_(body);
    };
    this.cancel_ = function () { xhr.onreadystatechange = null; xhr.abort(); };
    xhr.send();
  };

  CometClient.prototype.jsonp_ = function () {
    var self = this;
    var generation = ++this.generation_;
    var name = '_cometJsonp' + (++jsonpSeq);
    var head = document.getElementsByTagName('head')[0] || document.documentElement;
    var script = document.createElement('script');
    var timer = null;
    var called = false;
    function cleanup() {
      clearTimeout(timer);
      script.onload = script.onerror = null;
      if (script.parentNode) script.parentNode.removeChild(script);
      // The script may still run after an abandon: leave a function there.
      if (called) {
        try { delete root[name]; } catch (e) { root[name] = undefined; }
      } else {
        root[name] = noop;
      }
    }
    function failed(message) {
      if (generation !== self.generation_) return;
      cleanup();
      self.cancel_ = null;
      // A script tag cannot read the status or Retry-After of a refusal.
      self.retry_(new Error('CometClient: ' + message));
    }
    root[name] = function (body) {
      called = true;
      if (generation !== self.generation_) return;
      cleanup();
      self.cancel_ = null;
      self.answered_(body);
    };
    script.onerror = function () { failed('JSONP request failed'); };
    script.onload = function () { if (!called) failed('JSONP answer did not call back'); };
    timer = setTimeout(function () { failed('JSONP request timed out'); }, (this.timeout + 15) * 1000);
    script.async = true;
    script.src = this.requestUrl('poll', { timeout: this.timeout, callback: name, _: unique() });
    this.cancel_ = cleanup;
    head.appendChild(script);
  };

  CometClient.prototype.openStream_ = function () {
    var self = this;
    var generation = ++this.generation_;
    var source = new root.EventSource(this.requestUrl('sse', { _: unique() }));
    var opened = false;
    // A proxy that buffers the stream holds back its headers and first
    // lines: without them within sseTimeout, the stream is given up.
    var probe = setTimeout(function () {
      if (generation !== self.generation_) return;
      self.streamFailed_(false, 'no answer from the SSE stream within ' + self.sseTimeout +
        ' ms (buffered on the way?)');
    }, this.sseTimeout);
    this.cancel_ = function () { clearTimeout(probe); source.close(); };
    source.onopen = function () {
      if (generation !== self.generation_) return;
      opened = true;
      clearTimeout(probe);
      self.failures_ = 0;
      self.onResponse();
    };
    source.onmessage = function (ev) {
      if (generation !== self.generation_) return;
      var m;
      try { m = JSON.parse(ev.data); } catch (e) { self.report_(e); return; }
      // The event's id is the cursor after its message.
      self.batch_(ev.lastEventId || null, null, [m]);
    };
    source.addEventListener('gap', function (ev) {
      if (generation !== self.generation_) return;
      var g;
      try { g = JSON.parse(ev.data); } catch (e) { self.report_(e); return; }
      if (g && isArray(g.channels) && g.channels.length) self.batch_(null, g.channels, []);
    }, false);
    source.onerror = function () {
      if (generation !== self.generation_) return;
      // The stream ended (its lifetime, a restart) or never opened. The
      // client reconnects itself, from its own cursor, with its backoff.
      self.streamFailed_(opened, opened ? '' : 'the SSE stream could not be opened');
    };
  };

  CometClient.prototype.streamFailed_ = function (opened, message) {
    this.abandon_();
    if (opened) {
      this.retry_(null, 0);
      return;
    }
    var err = new Error('CometClient: ' + message);
    if (this.mode_ === 'auto') {
      // Long-poll from here on (until stop and start), from the same cursor.
      this.sseFailed_ = true;
      this.report_(new Error(err.message + '; using long-poll'));
      this.connect_();
      return;
    }
    this.retry_(err, 0);
  };

  CometClient.prototype.unshared_ = function (what) {
    // The channels name the group of tabs: changing them in one tab would
    // take the others' connection away.
    if (this.shared) throw new TypeError('CometClient: ' + what + ' is not available with shared: true');
  };

  // shared: joins the tabs of this browser that follow the same url and
  // channels. One of them leads (Web Locks where the browser has them,
  // else a lease in localStorage renewed every second): it connects and
  // passes every batch on (BroadcastChannel, else storage events); the
  // others deliver what they hear and keep its cursor, so that the one
  // that leads next continues from there.
  CometClient.prototype.share_ = function () {
    var self = this;
    var key = 'comet-gateway ' + this.url + '?' + this.query + ' ' + this.channels.slice().sort().join(',');
    var token = {};
    var cleanups = [];
    var heardBatch = false;
    var askedAgain = false;
    var current = function () { return self.running && self.share_token_ === token; };
    this.share_token_ = token;
    this.synced_ = false;
    this.unshare_ = function () {
      for (var i = 0; i < cleanups.length; i++) cleanups[i]();
    };
    function heard(data) {
      if (!current() || !data) return;
      if (self.leader) {
        // The lists as they are after every batch passed on so far: the
        // tab that said hello applies the batches that follow to them.
        if (data.type === 'hello') self.post_({ type: 'cursor', cursor: self.cursor, lists: self.sharedLists_() });
        return;
      }
      // This tab delivers what the leader delivers, from the leader's cursor
      // on (its own `since` is the group's only while nobody leads).
      if (data.type === 'batch') {
        heardBatch = true;
        // A hello sent before the leader led went unanswered: ask again.
        if (!self.synced_ && !askedAgain) {
          askedAgain = true;
          self.post_({ type: 'hello' });
        }
        self.batch_(data.cursor, data.gaps, data.messages || []);
      } else if (data.type === 'cursor') {
        if (data.cursor && !heardBatch) self.cursor = data.cursor;
        if (!self.synced_ && isArray(data.lists)) self.takeLists_(data.lists);
      }
    }
    if (typeof root.BroadcastChannel === 'function') {
      var channel = new root.BroadcastChannel(key);
      channel.onmessage = function (ev) { heard(ev.data); };
      this.post_ = function (data) { channel.postMessage(data); };
      cleanups.push(function () { channel.close(); });
    } else {
      var onStorage = function (ev) {
        if (ev.key !== key + ' message' || !ev.newValue) return;
        try { heard(JSON.parse(ev.newValue).data); } catch (e) { /* not ours */ }
      };
      root.addEventListener('storage', onStorage, false);
      this.post_ = function (data) {
        try {
          root.localStorage.setItem(key + ' message', JSON.stringify({ n: unique(), data: data }));
        } catch (e) { /* storage full or denied: the others miss this batch */ }
      };
      cleanups.push(function () { root.removeEventListener('storage', onStorage, false); });
    }
    this.post_({ type: 'hello' });
    function lead() {
      // Its lists go on from where they are, as its cursor does.
      self.synced_ = true;
      self.leader = true;
      self.connect_();
    }
    var locks = root.navigator && root.navigator.locks;
    if (locks && typeof locks.request === 'function') {
      locks.request(key, function () {
        if (!current()) return undefined;  // stopped meanwhile: release at once
        lead();
        // A thenable that settles on stop(): the lock is held until then, or
        // until the tab goes away.
        return { then: function (release) { cleanups.push(release); } };
      });
      return;
    }
    this.lease_(key + ' lease', current, lead, cleanups);
  };

  // The localStorage lease: {id, until}, renewed every second by its
  // holder, taken over 3 s after its last renewal (at once when its holder
  // leaves the page or stops). A holder that finds another's id steps down.
  CometClient.prototype.lease_ = function (key, current, lead, cleanups) {
    var self = this;
    var id = unique() + '.' + Math.random();
    var timer = null;
    function read() {
      try { return JSON.parse(root.localStorage.getItem(key)); } catch (e) { return null; }
    }
    function write() {
      try { root.localStorage.setItem(key, JSON.stringify({ id: id, until: new Date().getTime() + 3000 })); } catch (e) { /* denied */ }
    }
    function tick() {
      timer = null;
      if (!current()) return;
      var lease = read();
      if (self.leader) {
        if (lease && lease.id !== id && lease.until > new Date().getTime()) {
          self.leader = false;
          self.abandon_();
          self.setTransport_(null);
        } else {
          write();
        }
      } else if (!lease || lease.until < new Date().getTime()) {
        write();
        // Two tabs may take it at once: the one whose id stays leads.
        timer = setTimeout(function () {
          var mine = read();
          if (current() && mine && mine.id === id) lead();
          timer = setTimeout(tick, 1000);
        }, 50);
        return;
      }
      timer = setTimeout(tick, 1000);
    }
    function leave() {
      var lease = read();
      if (lease && lease.id === id) {
        try { root.localStorage.removeItem(key); } catch (e) { /* denied */ }
      }
    }
    var onStorage = function (ev) {
      if (ev.key === key && !ev.newValue && !self.leader && timer !== null) {
        clearTimeout(timer);
        tick();
      }
    };
    root.addEventListener('storage', onStorage, false);
    root.addEventListener('pagehide', leave, false);
    cleanups.push(function () {
      clearTimeout(timer);
      root.removeEventListener('storage', onStorage, false);
      root.removeEventListener('pagehide', leave, false);
      leave();
    });
    tick();
  };

  // shared: what a leader tells a tab that joins, [{channel, members}].
  CometClient.prototype.sharedLists_ = function () {
    var out = [];
    for (var key in this.lists_) {
      if (this.lists_.hasOwnProperty(key)) out.push({ channel: key.slice(1), members: this.lists_[key] });
    }
    return out;
  };

  // shared: a follower's first lists, the leader's: each is its 'here'.
  CometClient.prototype.takeLists_ = function (lists) {
    this.lists_ = {};
    this.synced_ = true;
    for (var i = 0; i < lists.length; i++) {
      var l = lists[i];
      if (!l || typeof l.channel !== 'string' || !isArray(l.members)) continue;
      this.here_(l.channel, l.members);
    }
  };

  CometClient.prototype.deliver_ = function (body) {
    this.batch_(typeof body.cursor === 'string' ? body.cursor : null,
      isArray(body.gaps) ? body.gaps : null, isArray(body.messages) ? body.messages : []);
  };

  // What one answer or event carried: the cursor after it, gaps, messages
  // (as the gateway wrote them). A leader passes it on to the other tabs
  // first, so that a handler that throws or closes the tab costs them nothing.
  CometClient.prototype.batch_ = function (cursor, gaps, messages) {
    if (cursor) this.cursor = cursor;
    if (this.post_ && this.leader) this.post_({ type: 'batch', cursor: cursor, gaps: gaps, messages: messages });
    if (gaps && gaps.length) this.onGap(gaps.slice());
    for (var i = 0; i < messages.length; i++) this.deliverOne_(messages[i]);
  };

  CometClient.prototype.deliverOne_ = function (m) {
    var msg = { channel: m.channel, id: m.id };
    if (typeof m.data === 'string') msg.data = m.data;
    else if (typeof m.data_base64 === 'string') msg.bytes = decodeBase64(m.data_base64);
    // A presence channel's entries: 'here' with the members, 'join' and
    // 'leave' with one user (and its info, when the token had one).
    if (typeof m.presence === 'string') {
      msg.presence = m.presence;
      if (isArray(m.members)) msg.members = m.members;
      if (m.user !== undefined) msg.user = m.user;
      if (m.info !== undefined) msg.info = m.info;
      if (this.synced_ && typeof m.channel === 'string') this.presence_(m);
    }
    this.call_(this.onMessage, msg);
  };

  // A handler of the page, called with the client as `this`.
  CometClient.prototype.call_ = function (handler, a, b) {
    try {
      handler.call(this, a, b);
    } catch (err) {
      this.report_(err);
    }
  };

  // A presence entry: the channel's list, and onHere, onJoin or onLeave.
  // A join of a member listed (a 'here' may include the events after it)
  // only updates its info, a leave of one not listed is a repeat: neither
  // calls anything.
  CometClient.prototype.presence_ = function (m) {
    if (m.presence === 'here') {
      this.here_(m.channel, isArray(m.members) ? m.members : []);
      return;
    }
    if (typeof m.user !== 'string') return;
    var key = ' ' + m.channel;
    var list = this.lists_[key] || [];
    var i = position(list, m.user);
    var listed = i < list.length && list[i].user === m.user;
    if (m.presence === 'join') {
      this.lists_[key] = list;
      if (listed) {
        list[i] = member(m);
        return;
      }
      list.splice(i, 0, member(m));
      this.call_(this.onJoin, m.channel, member(m));
    } else if (m.presence === 'leave' && listed) {
      var gone = list.splice(i, 1)[0];
      this.call_(this.onLeave, m.channel, gone);
    }
  };

  CometClient.prototype.here_ = function (channel, members) {
    var list = [];
    for (var i = 0; i < members.length; i++) {
      if (members[i] && typeof members[i].user === 'string') list.push(member(members[i]));
    }
    // Sorted as this file compares (the gateway's order may differ beyond ASCII).
    list.sort(function (a, b) { return a.user < b.user ? -1 : a.user > b.user ? 1 : 0; });
    this.lists_[' ' + channel] = list;
    this.call_(this.onHere, channel, copyMembers(list));
  };

  return { CometClient: CometClient };
});
