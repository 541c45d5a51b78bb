// Compiled (never run) by static_checks.js against clients/js/comet.d.ts
// and comet.d.mts: what a typed page writes must type-check, what is wrong
// must not (each @ts-expect-error fails the check when it is not an error).
import { CometClient, CometMember, CometMessage, CometTransport } from '../../clients/js/comet.js';
import CometFromModule, { CometClient as ModuleClient } from '../../clients/js/comet.mjs';

const client: CometClient = new CometClient('/comet/', ['chat.42'], {
  transport: 'auto',
  since: 'earliest',
  timeout: 25,
  token: 't',
  sseTimeout: 3000,
  pauseWhenHidden: true,
  shared: false,
  minBackoff: 500,
  maxBackoff: 10000,
  onMessage(m: CometMessage) {
    const text: string | undefined = m.data;
    const bytes: Uint8Array | undefined = m.bytes;
    console.log(m.channel, m.id, text, bytes);
  },
  onGap(channels: string[]) { console.log(channels.join(',')); },
  onError(err) { console.log(err.message, err.status, err.code); },
  onResponse() {},
  onTransport(t: CometTransport) { console.log(t); },
  onHere(channel: string, members: CometMember[]) { console.log(channel, members.map((m) => m.user)); },
  onJoin(channel, m) { const name: unknown = m.info && m.info.name; console.log(channel, m.user, name); },
  onLeave(channel, m: CometMember) { console.log(channel, m.user); },
});
client.start();
client.subscribe('chat.7');
client.unsubscribe('chat.42');
const where: string | null = client.cursor;
const now: CometTransport | null = client.transport;
const leads: boolean = client.leader && client.shared;
console.log(where, now, leads, client.channels.length, client.url, client.running, client.requestUrl('poll'));
const online: CometMember[] = client.members('lobby.1');
console.log(online.length);
client.stop();

const same: typeof CometClient = ModuleClient;
const alsoSame: typeof CometClient = CometFromModule;
console.log(same, alsoSame);

// @ts-expect-error: not a transport
new CometClient('/comet/', ['a'], { transport: 'websocket' });
// @ts-expect-error: channels is a list
new CometClient('/comet/', 'a');
// @ts-expect-error: read-only
client.cursor = 'x';
// @ts-expect-error: a member's user is a string
const bad: number = client.members('lobby.1')[0].user;
console.log(bad);
// @ts-expect-error: onJoin gets one member, not a list
new CometClient('/comet/', ['a'], { onJoin(channel: string, members: CometMember[]) { console.log(channel, members); } });
// @ts-expect-error: no such endpoint
client.requestUrl('publish');

// The laravel-echo connector (comet-echo.d.ts).
import { CometConnector, CometPresenceChannel } from '../../clients/js/comet-echo.js';

const connector = new CometConnector({ cometUrl: '/comet/', authEndpoint: '/broadcasting/auth',
  namespace: 'App.Events', comet: { transport: 'longpoll', timeout: 20 } });
connector.channel('orders').listen('OrderShipped', (e) => console.log(e)).subscribed(() => {});
const room: CometPresenceChannel = connector.presenceChannel('chat.1').here((members) => console.log(members.length));
room.joining((m) => console.log(m)).leaving((m) => console.log(m));
const status: 'connected' | 'disconnected' | 'connecting' | 'reconnecting' | 'failed' = connector.connectionStatus();
const socket: string = connector.socketId();
console.log(status, socket);
// @ts-expect-error the token comes from /broadcasting/auth
new CometConnector({ comet: { token: 't' } });
