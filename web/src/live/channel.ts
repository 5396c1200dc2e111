// Live channel: one EventSource on /api/events shared by the whole app. Pages subscribe by
// topic ("org-units", "duty", "audit", ...). The server sends `hello` on connect and then
// events whose JSON data is {"topic": "...", "data": {...}} — named `update` (what the server
// sends), unnamed `message` events or events named after their topic are all handled; `lagged`
// (the client fell behind) makes every subscriber reload. On error the source is closed and
// reopened with exponential back-off (1 s → 30 s, with jitter).

export type LiveState = 'connecting' | 'online' | 'offline';
export type TopicHandler = (data: unknown, topic: string) => void;

interface EventSourceLike {
  readyState: number;
  onopen: ((ev: Event) => unknown) | null;
  onerror: ((ev: Event) => unknown) | null;
  onmessage: ((ev: MessageEvent) => unknown) | null;
  addEventListener(type: string, listener: (ev: MessageEvent) => void): void;
  close(): void;
}

export interface ChannelOptions {
  url?: string;
  create?: (url: string) => EventSourceLike;
  minDelayMs?: number;
  maxDelayMs?: number;
  random?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

/** Back-off delay for the n-th consecutive failure (0-based): min·2^n capped at max, ±20 %. */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random: () => number): number {
  const base = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 20));
  const jitter = 0.8 + 0.4 * random();
  return Math.round(base * jitter);
}

/** Parse an event payload into {topic, data}; `fallbackTopic` is the event's name. */
export function parseLiveEvent(raw: string, fallbackTopic: string): { topic: string; data: unknown } {
  try {
    const parsed: unknown = JSON.parse(raw);
    if (parsed && typeof parsed === 'object' && 'topic' in parsed && typeof parsed.topic === 'string') {
      return { topic: parsed.topic, data: 'data' in parsed ? parsed.data : undefined };
    }
    return { topic: fallbackTopic, data: parsed };
  } catch {
    return { topic: fallbackTopic, data: raw };
  }
}

export class LiveChannel {
  private readonly url: string;
  private readonly create: (url: string) => EventSourceLike;
  private readonly minDelay: number;
  private readonly maxDelay: number;
  private readonly random: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;

  private source: EventSourceLike | null = null;
  private timer: unknown = null;
  private attempts = 0;
  private running = false;
  private state: LiveState = 'offline';
  private readonly handlers = new Map<string, Set<TopicHandler>>();
  private readonly namedListeners = new Set<string>();
  private readonly stateListeners = new Set<(s: LiveState) => void>();

  constructor(opts: ChannelOptions = {}) {
    this.url = opts.url ?? '/api/events';
    this.create = opts.create ?? ((url) => new EventSource(url, { withCredentials: true }) as unknown as EventSourceLike);
    this.minDelay = opts.minDelayMs ?? 1000;
    this.maxDelay = opts.maxDelayMs ?? 30_000;
    this.random = opts.random ?? Math.random;
    this.setTimer = opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = opts.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  }

  getState(): LiveState {
    return this.state;
  }

  onState(fn: (s: LiveState) => void): () => void {
    this.stateListeners.add(fn);
    return () => {
      this.stateListeners.delete(fn);
    };
  }

  /** Call `fn` for every event of `topic` ("*" for all). Returns the unsubscribe function. */
  subscribe(topic: string, fn: TopicHandler): () => void {
    let set = this.handlers.get(topic);
    if (!set) {
      set = new Set();
      this.handlers.set(topic, set);
    }
    set.add(fn);
    if (topic !== '*' && this.source) this.listenNamed(this.source, topic);
    return () => {
      set.delete(fn);
    };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.attempts = 0;
    this.connect();
  }

  stop(): void {
    this.running = false;
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
    this.source?.close();
    this.source = null;
    this.namedListeners.clear();
    this.setState('offline');
  }

  private setState(s: LiveState): void {
    if (s === this.state) return;
    this.state = s;
    for (const fn of this.stateListeners) fn(s);
  }

  private connect(): void {
    this.timer = null;
    if (!this.running) return;
    this.setState('connecting');
    let src: EventSourceLike;
    try {
      src = this.create(this.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.source = src;
    this.namedListeners.clear();
    src.onopen = () => {
      this.attempts = 0;
      this.setState('online');
    };
    src.onerror = () => {
      if (this.source !== src) return;
      src.close();
      this.source = null;
      this.setState('offline');
      this.scheduleReconnect();
    };
    src.onmessage = (ev) => this.dispatch(ev.data, 'message');
    src.addEventListener('hello', () => {
      this.attempts = 0;
      this.setState('online');
    });
    // The server names its change events `update`, with the topic inside the data.
    src.addEventListener('update', (ev) => this.dispatch(ev.data, 'update'));
    // `lagged`: this client missed events; every subscriber reloads.
    src.addEventListener('lagged', () => this.dispatchAll());
    for (const topic of this.handlers.keys()) {
      if (topic !== '*') this.listenNamed(src, topic);
    }
  }

  private listenNamed(src: EventSourceLike, topic: string): void {
    if (this.namedListeners.has(topic)) return;
    this.namedListeners.add(topic);
    src.addEventListener(topic, (ev) => this.dispatch(ev.data, topic));
  }

  private scheduleReconnect(): void {
    if (!this.running || this.timer !== null) return;
    const delay = backoffDelay(this.attempts, this.minDelay, this.maxDelay, this.random);
    this.attempts += 1;
    this.timer = this.setTimer(() => this.connect(), delay);
  }

  private dispatchAll(): void {
    for (const [topic, set] of this.handlers) {
      if (topic === '*') continue;
      for (const fn of set) fn(undefined, topic);
    }
    for (const fn of this.handlers.get('*') ?? []) fn(undefined, 'lagged');
  }

  private dispatch(raw: unknown, eventName: string): void {
    const { topic, data } = parseLiveEvent(typeof raw === 'string' ? raw : '', eventName);
    for (const fn of this.handlers.get(topic) ?? []) fn(data, topic);
    for (const fn of this.handlers.get('*') ?? []) fn(data, topic);
  }
}

/** The app-wide channel. */
export const live = new LiveChannel();
