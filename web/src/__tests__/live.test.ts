import { describe, expect, it } from 'vitest';
import { LiveChannel, backoffDelay, parseLiveEvent } from '../live/channel';

class FakeSource {
  readyState = 0;
  onopen: ((ev: Event) => unknown) | null = null;
  onerror: ((ev: Event) => unknown) | null = null;
  onmessage: ((ev: MessageEvent) => unknown) | null = null;
  listeners = new Map<string, ((ev: MessageEvent) => void)[]>();
  closed = false;
  addEventListener(type: string, l: (ev: MessageEvent) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), l]);
  }
  close() {
    this.closed = true;
  }
  emit(type: string, data: string) {
    const ev = { data } as MessageEvent;
    if (type === 'message') this.onmessage?.(ev);
    for (const l of this.listeners.get(type) ?? []) l(ev);
  }
}

describe('live channel', () => {
  it('computes capped exponential back-off', () => {
    const mid = () => 0.5;
    expect(backoffDelay(0, 1000, 30000, mid)).toBe(1000);
    expect(backoffDelay(3, 1000, 30000, mid)).toBe(8000);
    expect(backoffDelay(10, 1000, 30000, mid)).toBe(30000);
  });

  it('parses topic envelopes', () => {
    expect(parseLiveEvent('{"topic":"duty","data":{"id":1}}', 'message')).toEqual({ topic: 'duty', data: { id: 1 } });
    expect(parseLiveEvent('{"id":1}', 'duty')).toEqual({ topic: 'duty', data: { id: 1 } });
    expect(parseLiveEvent('plain', 'x')).toEqual({ topic: 'x', data: 'plain' });
  });

  it('dispatches by topic, tracks state and reconnects after errors', () => {
    const sources: FakeSource[] = [];
    const timers: { fn: () => void; ms: number }[] = [];
    const ch = new LiveChannel({
      create: () => {
        const s = new FakeSource();
        sources.push(s);
        return s;
      },
      random: () => 0.5,
      setTimer: (fn, ms) => timers.push({ fn, ms }),
      clearTimer: () => undefined,
    });
    const states: string[] = [];
    ch.onState((s) => states.push(s));
    const got: unknown[] = [];
    ch.subscribe('duty', (d) => got.push(d));
    ch.start();
    const s1 = sources[0]!;
    s1.emit('hello', '{}');
    expect(ch.getState()).toBe('online');
    s1.emit('message', '{"topic":"duty","data":1}');
    s1.emit('message', '{"topic":"audit","data":2}');
    s1.emit('duty', '{"topic":"duty","data":3}');
    s1.emit('update', '{"topic":"duty","data":4}');
    s1.emit('update', '{"topic":"org-units","data":5}');
    s1.emit('lagged', '{"topic":"lagged","missed":3}');
    expect(got).toEqual([1, 3, 4, undefined]);

    s1.onerror?.(new Event('error'));
    expect(s1.closed).toBe(true);
    expect(ch.getState()).toBe('offline');
    expect(timers[0]!.ms).toBe(1000);
    timers[0]!.fn();
    expect(sources).toHaveLength(2);
    sources[1]!.onerror?.(new Event('error'));
    expect(timers[1]!.ms).toBe(2000);
    expect(states).toEqual(['connecting', 'online', 'offline', 'connecting', 'offline']);

    ch.stop();
    expect(ch.getState()).toBe('offline');
  });
});
