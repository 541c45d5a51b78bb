// Types of the laravel-echo connector (comet-echo.js). Echo takes the class
// as its broadcaster: new Echo({broadcaster: CometConnector, cometUrl: '/comet/'}).

import type { CometOptions } from './comet.js';

export interface CometEchoOptions {
  /** The gateway's mount (default '/comet/'). */
  cometUrl?: string;
  /** Laravel's auth route (default '/broadcasting/auth'), answered by clients/php/laravel. */
  authEndpoint?: string;
  auth?: { headers: Record<string, string> };
  csrfToken?: string | null;
  bearerToken?: string | null;
  /** Event namespace (default 'App.Events'); false for none. */
  namespace?: string | false;
  /** More options of the page's CometClient (transport, timeout, shared, ...). */
  comet?: Omit<CometOptions, 'token'>;
  [key: string]: unknown;
}

export type ConnectionStatus = 'connected' | 'disconnected' | 'connecting' | 'reconnecting' | 'failed';

export declare class CometChannel {
  readonly name: string;
  listen(event: string, callback: (data: any) => void): this;
  stopListening(event: string, callback?: (data: any) => void): this;
  listenToAll(callback: (event: string, data: any) => void): this;
  stopListeningToAll(callback?: (event: string, data: any) => void): this;
  notification(callback: (data: any) => void): this;
  stopListeningForNotification(callback: (data: any) => void): this;
  /** Client events cannot pass through the gateway: these do nothing. */
  listenForWhisper(event: string, callback: (data: any) => void): this;
  stopListeningForWhisper(event: string, callback?: (data: any) => void): this;
  /** @throws Error: pages cannot publish through the gateway. */
  whisper(event: string, data: Record<any, any>): this;
  subscribed(callback: () => void): this;
  error(callback: (error: { type: 'AuthError'; status: number; error: string }) => void): this;
}

export declare class CometPresenceChannel extends CometChannel {
  /** The members' info (the site's channel callback's values). */
  here(callback: (members: any[]) => void): this;
  joining(callback: (member: any) => void): this;
  leaving(callback: (member: any) => void): this;
}

export declare class CometConnector {
  constructor(options: CometEchoOptions);
  options: CometEchoOptions;
  channels: Record<string, CometChannel>;
  connect(): void;
  disconnect(): void;
  listen(channel: string, event: string, callback: (data: any) => void): CometChannel;
  channel(name: string): CometChannel;
  privateChannel(name: string): CometChannel;
  presenceChannel(name: string): CometPresenceChannel;
  leave(name: string): void;
  leaveChannel(name: string): void;
  socketId(): string;
  connectionStatus(): ConnectionStatus;
  onConnectionChange(callback: (status: ConnectionStatus) => void): () => void;
}

export default CometConnector;
