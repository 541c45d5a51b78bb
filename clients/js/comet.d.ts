// Types of the comet-gateway browser client (comet.js, comet.mjs).

export type CometTransportOption = 'auto' | 'sse' | 'longpoll' | 'jsonp';
export type CometTransport = 'sse' | 'longpoll' | 'jsonp';

/** A member of a presence channel: its user, and its info when the token had one. */
export interface CometMember {
  user: string;
  info?: Record<string, unknown>;
}

export interface CometMessage {
  channel: string;
  /** Opaque: the Redis stream id of a durable message, else a gateway-specific string. */
  id: string;
  /** The payload when it is valid UTF-8. */
  data?: string;
  /** The payload otherwise (from data_base64). */
  bytes?: Uint8Array;
  /** On a presence channel (--presence): 'here' (members), 'join' or 'leave' (user, info). */
  presence?: 'here' | 'join' | 'leave';
  members?: CometMember[];
  user?: string;
  info?: Record<string, unknown>;
}

/** What onError receives for a refused poll: the status and the gateway's error code. */
export interface CometError extends Error {
  status?: number;
  code?: string;
}

export interface CometOptions {
  onMessage?: (message: CometMessage) => void;
  /** Messages on these channels may have been missed; called before the messages that follow. */
  onGap?: (channels: string[]) => void;
  onError?: (error: CometError) => void;
  /** A poll was answered, or a stream opened. */
  onResponse?: () => void;
  /** The transport in use changed. */
  onTransport?: (transport: CometTransport) => void;
  /** A presence channel's member list replaced (the gateway's 'here'; with shared, the leader's lists). */
  onHere?: (channel: string, members: CometMember[]) => void;
  /** A user not listed joined a presence channel. */
  onJoin?: (channel: string, member: CometMember) => void;
  /** A listed user left a presence channel (member as it was listed, with its info). */
  onLeave?: (channel: string, member: CometMember) => void;
  /** Default 'auto': SSE where EventSource exists, long-poll when it is missing or does not come through. */
  transport?: CometTransportOption;
  /** Where to start: 'earliest', a cursor, or (default) now. */
  since?: string;
  /** Seconds a poll may park (default 25). */
  timeout?: number;
  /** Access token, with access control on. */
  token?: string;
  /** Milliseconds for a stream to open before it counts as buffered on the way (default 5000). */
  sseTimeout?: number;
  /**
   * One connection per browser for the clients with the same url and channels (default false):
   * one tab leads (Web Locks, else a localStorage lease), the others hear from it.
   */
  shared?: boolean;
  /** No connection while document.hidden (default false; not with shared). */
  pauseWhenHidden?: boolean;
  /** Backoff in milliseconds: the first ceiling (default 1000) and the largest (default 30000). */
  minBackoff?: number;
  maxBackoff?: number;
}

export declare class CometClient {
  /**
   * @param url the gateway's mount ('/comet/'); a URL ending in /poll or /sse stands for its mount.
   * @param channels at least one channel name (1 to 128 of A-Z a-z 0-9 _ . : @ -).
   * @throws TypeError for no channels, a bad channel name, a bad transport.
   */
  constructor(url: string, channels: string[], options?: CometOptions);
  /** The mount requests go to, ending in '/'. */
  readonly url: string;
  readonly channels: string[];
  /** The cursor the next request starts from (null: now). */
  readonly cursor: string | null;
  /** The access token; a new one assigned here goes with the next request. */
  token: string | null;
  /** The transport in use, null while stopped. */
  readonly transport: CometTransport | null;
  readonly running: boolean;
  readonly shared: boolean;
  /** This client holds the connection (always, while running, unless shared). */
  readonly leader: boolean;
  start(): void;
  /** Ends every request; the cursor is kept, start() resumes from it. */
  stop(): void;
  /** @throws TypeError for a bad channel name, or with shared. */
  subscribe(channel: string): void;
  /** With no channel left the client waits for subscribe(). @throws TypeError for a bad channel name, or with shared. */
  unsubscribe(channel: string): void;
  /** A presence channel's members now, sorted by user (a copy; empty before its first list). */
  members(channel: string): CometMember[];
  /** The URL of a request to endpoint 'poll' or 'sse' with the client's channels, cursor and token. */
  requestUrl(endpoint: 'poll' | 'sse', extra?: Record<string, string | number>): string;
}

export default CometClient;
