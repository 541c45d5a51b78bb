/*
 * comet-echo.js: a laravel-echo 2.x connector for comet-gateway. One ES5
 * file on top of comet.js (the global CometClient, or require('./comet.js')
 * under CommonJS); a UMD script that defines the global CometConnector.
 *
 *   window.Echo = new Echo({
 *     broadcaster: CometConnector,
 *     cometUrl: '/comet/',                    // the gateway's mount
 *     authEndpoint: '/broadcasting/auth',     // Laravel's, answered by clients/php/laravel
 *     comet: { transport: 'auto' }            // optional: more CometClient options
 *   });
 *   Echo.channel('orders').listen('OrderShipped', function (e) { ... });
 *   Echo.private('user.7').listen('.invoice.paid', function (e) { ... });
 *   Echo.join('chat.1').here(function (users) {}).joining(...).leaving(...);
 *
 * One CometClient carries every channel of the page. Private and presence
 * channels are authorised by POSTing to authEndpoint, as with Pusher, with
 * the other guarded channels the page holds: the answer is one gateway
 * token for all of them (a poll carries one token).
 */
(function (root, factory) {
  'use strict';
  var cjs = typeof module === 'object' && module && module.exports;
  var api = factory(root, cjs ? require('./comet.js').CometClient : null);
  if (typeof define === 'function' && define.amd) define([], function () { return api; });
  if (cjs) module.exports = api;
  if (root) root.CometConnector = api.CometConnector;
})(typeof globalThis !== 'undefined' ? globalThis : typeof self !== 'undefined' ? self : this,
function (root, requiredClient) {
  'use strict';

  var NOTIFICATION = '.Illuminate\\Notifications\\Events\\BroadcastNotificationCreated';

  function noop() {}

  function keys(object) {
    var out = [];
    for (var k in object) if (object.hasOwnProperty(k)) out.push(k);
    return out;
  }

  function isGuarded(name) {
    return name.indexOf('private-') === 0 || name.indexOf('presence-') === 0;
  }

  function call(callbacks, args) {
    for (var i = 0; i < callbacks.length; i++) callbacks[i].apply(null, args);
  }

  function remove(list, item) {
    for (var i = list.length - 1; i >= 0; i--) if (list[i] === item) list.splice(i, 1);
  }

  // Laravel's event names: 'OrderShipped' is App\Events\OrderShipped (the
  // namespace option, dots for backslashes); '.order.shipped' is taken as
  // written (broadcastAs).
  function formatEvent(namespace, event) {
    var first = event.charAt(0);
    if (first === '.' || first === '\\') return event.substring(1);
    if (namespace) event = namespace + '.' + event;
    return event.replace(/\./g, '\\');
  }

  // A channel as Echo's pages use it (the Channel interface of laravel-echo).
  function CometChannel(connector, name) {
    this.connector = connector;
    this.name = name;
    this.options = connector.options;
    this.notificationCreatedEvent = NOTIFICATION;
    this.listeners_ = {};
    this.all_ = [];
    this.onSubscribed_ = [];
    this.onError_ = [];
    this.state_ = 'pending';  // 'subscribed' once a poll carried it; 'refused'; 'left'
  }

  CometChannel.prototype.listen = function (event, callback) {
    var name = formatEvent(this.options.namespace, event);
    (this.listeners_[name] = this.listeners_[name] || []).push(callback);
    return this;
  };

  CometChannel.prototype.stopListening = function (event, callback) {
    var name = formatEvent(this.options.namespace, event);
    if (!this.listeners_[name]) return this;
    if (callback) remove(this.listeners_[name], callback);
    if (!callback || this.listeners_[name].length === 0) delete this.listeners_[name];
    return this;
  };

  // callback(event, data) for every event; the event named as listen()
  // takes it (without the namespace, or with a leading '.').
  CometChannel.prototype.listenToAll = function (callback) {
    this.all_.push(callback);
    return this;
  };

  CometChannel.prototype.stopListeningToAll = function (callback) {
    if (callback) remove(this.all_, callback);
    else this.all_ = [];
    return this;
  };

  CometChannel.prototype.notification = function (callback) {
    return this.listen(this.notificationCreatedEvent, callback);
  };

  CometChannel.prototype.stopListeningForNotification = function (callback) {
    return this.stopListening(this.notificationCreatedEvent, callback);
  };

  // Whispers are client events: pages cannot publish through the gateway.
  CometChannel.prototype.listenForWhisper = function () { return this; };
  CometChannel.prototype.stopListeningForWhisper = function () { return this; };
  CometChannel.prototype.whisper = function () {
    throw new Error('CometConnector: whisper is not supported (pages publish through the site, not the gateway)');
  };

  // Called once the gateway has answered a request naming the channel (at
  // once when that has happened already).
  CometChannel.prototype.subscribed = function (callback) {
    if (this.state_ === 'subscribed') callback();
    else this.onSubscribed_.push(callback);
    return this;
  };

  // Called with {type: 'AuthError', status, error} when /broadcasting/auth
  // refuses the channel.
  CometChannel.prototype.error = function (callback) {
    this.onError_.push(callback);
    return this;
  };

  CometChannel.prototype.subscribed_ = function () {
    if (this.state_ !== 'pending') return;
    this.state_ = 'subscribed';
    var callbacks = this.onSubscribed_;
    this.onSubscribed_ = [];
    call(callbacks, []);
  };

  CometChannel.prototype.failed_ = function (status, message) {
    this.state_ = 'refused';
    call(this.onError_, [{ type: 'AuthError', status: status, error: message }]);
  };

  CometChannel.prototype.emit_ = function (event, data) {
    if (this.listeners_[event]) call(this.listeners_[event].slice(), [data]);
    if (this.all_.length) {
      var ns = String(this.options.namespace || '').replace(/\./g, '\\');
      var short = ns && event.indexOf(ns + '\\') === 0 ? event.substring(ns.length + 1) : '.' + event;
      call(this.all_.slice(), [short, data]);
    }
  };

  // A presence channel: the gateway's members list ("here"), joins and
  // leaves, keyed by user; the callbacks get each member's info (what the
  // site's channel callback returned), {} for a member without one. As with
  // Pusher, the page's own user is in every list and its own joins and
  // leaves call nothing: the gateway's first list lacks it until its join
  // (unless another of its pages is there), so the user the site's auth
  // answer named (channel_data) is added to the list.
  function CometPresenceChannel(connector, name) {
    CometChannel.call(this, connector, name);
    this.members_ = null;  // user -> info, once the gateway has sent them
    this.me_ = null;       // {user, info} from the auth answer's channel_data
    this.onHere_ = [];
    this.onJoining_ = [];
    this.onLeaving_ = [];
  }
  CometPresenceChannel.prototype = Object.create(CometChannel.prototype);
  CometPresenceChannel.prototype.constructor = CometPresenceChannel;

  CometPresenceChannel.prototype.here = function (callback) {
    this.onHere_.push(callback);
    if (this.members_) callback(this.infos_());
    return this;
  };

  CometPresenceChannel.prototype.joining = function (callback) {
    this.onJoining_.push(callback);
    return this;
  };

  CometPresenceChannel.prototype.leaving = function (callback) {
    this.onLeaving_.push(callback);
    return this;
  };

  CometPresenceChannel.prototype.infos_ = function () {
    var out = [];
    for (var i = 0; i < this.members_.order.length; i++) out.push(this.members_.info[this.members_.order[i]]);
    return out;
  };

  // One presence entry of a poll answer or stream event.
  CometPresenceChannel.prototype.presence_ = function (m) {
    var info = m.info && typeof m.info === 'object' ? m.info : {};
    if (m.presence === 'here') {
      // The whole list: the first answer on the channel, and again after a gap.
      this.members_ = { order: [], info: {} };
      var list = m.members || [];
      for (var i = 0; i < list.length; i++) {
        var user = String(list[i].user);
        if (!this.members_.info.hasOwnProperty(user)) this.members_.order.push(user);
        this.members_.info[user] = list[i].info && typeof list[i].info === 'object' ? list[i].info : {};
      }
      this.addMe_();
      call(this.onHere_.slice(), [this.infos_()]);
      return;
    }
    if (!this.members_) this.members_ = { order: [], info: {} };
    var id = String(m.user);
    var known = this.members_.info.hasOwnProperty(id);
    if (this.me_ && id === this.me_.user) {
      // The page's own user: its info as the gateway has it, and no call.
      if (m.presence === 'join') {
        if (!known) this.members_.order.push(id);
        this.members_.info[id] = info;
      }
      return;
    }
    if (m.presence === 'join') {
      this.members_.info[id] = info;
      if (known) return;
      this.members_.order.push(id);
      call(this.onJoining_.slice(), [info]);
    } else if (m.presence === 'leave' && known) {
      var was = this.members_.info[id];
      delete this.members_.info[id];
      remove(this.members_.order, id);
      call(this.onLeaving_.slice(), [was]);
    }
  };

  CometPresenceChannel.prototype.identify_ = function (data) {
    if (!data || data.user_id === undefined || data.user_id === null) return;
    var info = data.user_info && typeof data.user_info === 'object' ? data.user_info : {};
    this.me_ = { user: String(data.user_id), info: info };
    if (this.members_) this.addMe_();
  };

  CometPresenceChannel.prototype.addMe_ = function () {
    if (!this.me_ || this.members_.info.hasOwnProperty(this.me_.user)) return;
    this.members_.order.push(this.me_.user);
    this.members_.info[this.me_.user] = this.me_.info;
  };

  // A socket id in Pusher's form (digits.digits): Laravel sends it back in
  // the payload's "socket" for toOthers(), and this page drops those.
  function socketId() {
    function part() { return String(Math.floor(Math.random() * 1e9) + 1); }
    return part() + '.' + part();
  }

  function CometConnector(options) {
    if (!(this instanceof CometConnector)) throw new TypeError('CometConnector: call it with new');
    var o = options || {};
    this.options = {};
    for (var k in o) if (o.hasOwnProperty(k)) this.options[k] = o[k];
    if (this.options.namespace === undefined) this.options.namespace = 'App.Events';
    if (!this.options.authEndpoint) this.options.authEndpoint = '/broadcasting/auth';
    if (!this.options.cometUrl) this.options.cometUrl = '/comet/';
    var headers = {};
    var given = (o.auth && o.auth.headers) || {};
    for (var h in given) if (given.hasOwnProperty(h)) headers[h] = given[h];
    var csrf = this.csrfToken_();
    if (csrf) headers['X-CSRF-TOKEN'] = csrf;
    if (o.bearerToken) headers.Authorization = 'Bearer ' + o.bearerToken;
    this.options.auth = { headers: headers };
    this.channels = {};     // Echo's names (private-x, presence-x) -> channels
    this.socket_ = socketId();
    this.client_ = null;
    this.token_ = null;
    this.granted_ = {};     // guarded channels the token covers
    this.queue_ = [];       // authorisations waiting, one in flight at a time
    this.authorising_ = false;
    this.renewal_ = null;
    this.status_ = 'connecting';
    this.statusListeners_ = [];
    this.connect();
  }

  CometConnector.prototype.csrfToken_ = function () {
    if (root.Laravel && root.Laravel.csrfToken) return root.Laravel.csrfToken;
    if (this.options.csrfToken) return this.options.csrfToken;
    if (typeof document !== 'undefined' && document.querySelector) {
      var meta = document.querySelector('meta[name="csrf-token"]');
      if (meta) return meta.getAttribute('content');
    }
    return null;
  };

  // Nothing to open until a channel is named; after disconnect(), starts
  // the client again from its cursor.
  CometConnector.prototype.connect = function () {
    if (this.client_ && !this.client_.running) {
      this.setStatus_('connecting');
      this.client_.start();
    }
  };

  CometConnector.prototype.disconnect = function () {
    if (this.client_) this.client_.stop();
    if (this.renewal_) clearTimeout(this.renewal_);
    this.renewal_ = null;
    this.setStatus_('disconnected');
  };

  CometConnector.prototype.socketId = function () {
    return this.socket_;
  };

  CometConnector.prototype.connectionStatus = function () {
    return this.status_;
  };

  CometConnector.prototype.onConnectionChange = function (callback) {
    var listeners = this.statusListeners_;
    listeners.push(callback);
    return function () { remove(listeners, callback); };
  };

  CometConnector.prototype.setStatus_ = function (status) {
    if (this.status_ === status) return;
    this.status_ = status;
    call(this.statusListeners_.slice(), [status]);
  };

  CometConnector.prototype.listen = function (name, event, callback) {
    return this.channel(name).listen(event, callback);
  };

  CometConnector.prototype.channel = function (name) {
    return this.open_(name, CometChannel);
  };

  CometConnector.prototype.privateChannel = function (name) {
    return this.open_('private-' + name, CometChannel);
  };

  CometConnector.prototype.presenceChannel = function (name) {
    return this.open_('presence-' + name, CometPresenceChannel);
  };

  CometConnector.prototype.leave = function (name) {
    this.leaveChannel(name);
    this.leaveChannel('private-' + name);
    this.leaveChannel('presence-' + name);
  };

  CometConnector.prototype.leaveChannel = function (name) {
    var ch = this.channels[name];
    if (!ch) return;
    ch.state_ = 'left';
    delete this.channels[name];
    delete this.granted_[name];
    if (this.client_ && this.has_(name)) this.client_.unsubscribe(name);
  };

  CometConnector.prototype.has_ = function (name) {
    var list = this.client_ ? this.client_.channels : [];
    for (var i = 0; i < list.length; i++) if (list[i] === name) return true;
    return false;
  };

  CometConnector.prototype.open_ = function (name, Type) {
    if (this.channels[name]) return this.channels[name];
    var ch = new Type(this, name);
    this.channels[name] = ch;
    if (isGuarded(name)) {
      this.queue_.push(name);
      this.authorise_();
    } else {
      this.follow_(name);
    }
    return ch;
  };

  // Adds a channel to the page's one CometClient (made on the first).
  CometConnector.prototype.follow_ = function (name) {
    var self = this;
    if (this.client_) {
      this.client_.token = this.token_;
      this.client_.subscribe(name);
      return;
    }
    var extra = this.options.comet || {};
    var o = {};
    for (var k in extra) if (extra.hasOwnProperty(k)) o[k] = extra[k];
    o.token = this.token_;
    o.onMessage = function (msg) {
      self.message_(msg);
      if (extra.onMessage) extra.onMessage(msg);
    };
    o.onResponse = function () {
      self.setStatus_('connected');
      var names = self.client_ ? self.client_.channels : [];
      for (var i = 0; i < names.length; i++) if (self.channels[names[i]]) self.channels[names[i]].subscribed_();
      if (extra.onResponse) extra.onResponse();
    };
    o.onError = function (err) {
      self.setStatus_('reconnecting');
      // An expired token (or one the gateway no longer takes): a new one
      // from the site; the client retries with it.
      if (err && err.status === 403 && !self.authorising_ && keys(self.granted_).length) {
        self.queue_.push(null);
        self.authorise_();
      }
      if (extra.onError) extra.onError(err);
    };
    var Client = requiredClient || root.CometClient;
    if (!Client) throw new Error('CometConnector: CometClient not found (load comet.js first)');
    this.client_ = new Client(this.options.cometUrl, [name], o);
    this.client_.start();
  };

  CometConnector.prototype.message_ = function (msg) {
    var ch = this.channels[msg.channel];
    if (!ch || ch.state_ === 'left' || ch.state_ === 'refused') return;
    if (msg.presence) {
      if (ch.presence_) ch.presence_(msg);
      return;
    }
    if (typeof msg.data !== 'string') return;
    var payload;
    try { payload = JSON.parse(msg.data); } catch (e) { return; }
    if (!payload || typeof payload.event !== 'string') return;
    // toOthers(): the site broadcast it with this page's X-Socket-ID.
    if (payload.socket && payload.socket === this.socket_) return;
    ch.emit_(payload.event, payload.data);
  };

  // Authorises the next name of the queue (null: renew the token for the
  // channels held) with the other guarded channels held, so that one token
  // covers them all. One request at a time: each answer's token replaces
  // the last.
  CometConnector.prototype.authorise_ = function () {
    if (this.authorising_ || this.queue_.length === 0) return;
    var name = this.queue_.shift();
    var held = keys(this.granted_);
    var renewal = name === null;
    if (renewal) {
      if (held.length === 0) return this.authorise_();
      name = held[0];
    } else if (!this.channels[name]) {
      return this.authorise_();  // left before its turn
    }
    var others = [];
    for (var i = 0; i < held.length; i++) if (held[i] !== name) others.push(held[i]);
    var body = 'socket_id=' + encodeURIComponent(this.socket_) + '&channel_name=' + encodeURIComponent(name);
    for (var j = 0; j < others.length; j++) body += '&channels%5B%5D=' + encodeURIComponent(others[j]);
    var self = this;
    this.authorising_ = true;
    var xhr = new root.XMLHttpRequest();
    xhr.open('POST', this.options.authEndpoint, true);
    xhr.setRequestHeader('Content-Type', 'application/x-www-form-urlencoded');
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('X-Requested-With', 'XMLHttpRequest');
    xhr.setRequestHeader('X-Socket-ID', this.socket_);
    var headers = this.options.auth.headers;
    for (var h in headers) if (headers.hasOwnProperty(h)) xhr.setRequestHeader(h, headers[h]);
    xhr.onreadystatechange = function () {
      if (xhr.readyState !== 4) return;
      self.authorising_ = false;
      var answer = null;
      if (xhr.status === 200) {
        try { answer = JSON.parse(xhr.responseText); } catch (e) { answer = null; }
      }
      if (answer && typeof answer.token === 'string') {
        self.granted_answer_(name, answer);
      } else {
        self.refused_(name, xhr.status, xhr.responseText);
        // A renewal refused for its first channel: the others still need one.
        if (renewal && others.length) self.queue_.push(null);
      }
      self.authorise_();
    };
    xhr.send(body);
  };

  CometConnector.prototype.granted_answer_ = function (name, answer) {
    var granted = {};
    var list = answer.channels || [name];
    for (var i = 0; i < list.length; i++) granted[list[i]] = true;
    // In the order the page joined them (the glue takes a presence
    // channel's info from the first).
    var before = keys(this.granted_);
    this.granted_ = {};
    for (var b = 0; b < before.length; b++) if (granted[before[b]]) this.granted_[before[b]] = true;
    for (var g in granted) if (granted.hasOwnProperty(g) && this.channels[g]) this.granted_[g] = true;
    this.token_ = answer.token;
    if (this.client_) this.client_.token = answer.token;
    // Laravel's channel_data for a presence channel: the page's own user.
    var asked = this.channels[name];
    if (granted[name] && asked && asked.identify_) asked.identify_(answer.channel_data);
    // A channel held before and left out now: its callback refuses it today.
    for (var j = 0; j < before.length; j++) if (!granted[before[j]]) this.refused_(before[j], 403, '');
    if (granted[name] && this.channels[name] && !this.has_(name)) this.follow_(name);
    this.scheduleRenewal_(answer.expires_in);
  };

  CometConnector.prototype.refused_ = function (name, status, text) {
    var ch = this.channels[name];
    delete this.granted_[name];
    if (this.client_ && this.has_(name)) this.client_.unsubscribe(name);
    if (ch && ch.state_ !== 'left') ch.failed_(status, status === 0 ? 'network error' : String(text || '').slice(0, 200));
    // The others held stay covered by the token of the last answer.
  };

  // A new token before this one expires (at 80 % of its life).
  CometConnector.prototype.scheduleRenewal_ = function (seconds) {
    if (this.renewal_) clearTimeout(this.renewal_);
    this.renewal_ = null;
    if (typeof seconds !== 'number' || !(seconds > 0)) return;
    var self = this;
    this.renewal_ = setTimeout(function () {
      self.renewal_ = null;
      self.queue_.push(null);
      self.authorise_();
    }, seconds * 800);
  };

  return { CometConnector: CometConnector, CometChannel: CometChannel, CometPresenceChannel: CometPresenceChannel };
});
