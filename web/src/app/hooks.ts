import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { live } from '../live/channel';
import type { LiveState } from '../live/channel';

export interface Async<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/**
 * Run `fn` when `deps` change (and on `reload()`); an earlier run still in flight is aborted.
 */
export function useAsync<T>(fn: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[]): Async<T> {
  const [tick, setTick] = useState(0);
  // Which run the stored result belongs to; `loading` is derived from it.
  const key = JSON.stringify(deps) + '#' + tick;
  const [state, setState] = useState<{ data: T | undefined; error: unknown; key: string | null }>({
    data: undefined,
    error: null,
    key: null,
  });
  const fnRef = useRef(fn);
  useEffect(() => {
    fnRef.current = fn;
  });
  useEffect(() => {
    const ctl = new AbortController();
    fnRef.current(ctl.signal).then(
      (data) => {
        if (!ctl.signal.aborted) setState({ data, error: null, key });
      },
      (error: unknown) => {
        if (!ctl.signal.aborted) setState((s) => ({ data: s.data, error, key }));
      },
    );
    return () => ctl.abort();
  }, [key]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { data: state.data, error: state.key === key ? state.error : null, loading: state.key !== key, reload };
}

/** Call `fn` on every live event of `topic` while the component is mounted. */
export function useLiveTopic(topic: string, fn: (data: unknown) => void): void {
  const fnRef = useRef(fn);
  useEffect(() => {
    fnRef.current = fn;
  });
  useEffect(() => live.subscribe(topic, (d) => fnRef.current(d)), [topic]);
}

const subscribeLive = (fn: () => void) => live.onState(fn);
const liveSnapshot = () => live.getState();

export function useLiveState(): LiveState {
  return useSyncExternalStore(subscribeLive, liveSnapshot, liveSnapshot);
}

/** A media query's current answer. */
export function useMedia(query: string): boolean {
  const [match, setMatch] = useState(() => typeof window !== 'undefined' && window.matchMedia(query).matches);
  useEffect(() => {
    const mq = window.matchMedia(query);
    const on = () => setMatch(mq.matches);
    on();
    mq.addEventListener('change', on);
    return () => mq.removeEventListener('change', on);
  }, [query]);
  return match;
}

/**
 * Call `fn` every `ms` while the page is visible, and once when it becomes visible again after
 * being hidden (so a wall screen or a phone in a pocket does not poll for nothing).
 */
export function usePolling(fn: () => void, ms: number): void {
  const fnRef = useRef(fn);
  useEffect(() => {
    fnRef.current = fn;
  });
  useEffect(() => {
    let timer: ReturnType<typeof setInterval> | null = null;
    const start = () => {
      if (timer === null) timer = setInterval(() => fnRef.current(), ms);
    };
    const stop = () => {
      if (timer !== null) clearInterval(timer);
      timer = null;
    };
    const onVisibility = () => {
      if (document.hidden) stop();
      else {
        fnRef.current();
        start();
      }
    };
    if (!document.hidden) start();
    document.addEventListener('visibilitychange', onVisibility);
    return () => {
      stop();
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [ms]);
}
