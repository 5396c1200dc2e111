import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { api, onAuthProblem, request } from '../api/client';
import type { Locale, Me, UiConfig } from '../api/types';
import {
  LOCALE_STORAGE_KEY,
  initialLocale,
  translate,
  translateDynamic,
  type MessageKey,
  type Params,
} from '../i18n/lookup';
import { live } from '../live/channel';
import { navigate } from '../router';

const WALL_STORAGE_KEY = 'hd_wall';

export interface AppState {
  locale: Locale;
  /** Translate a catalogue key. */
  t: (key: MessageKey, params?: Params) => string;
  /** Translate a key built at run time, with a fallback text. */
  td: (key: string, fallback?: string) => string;
  setLocale: (l: Locale) => void;
  me: Me | null;
  setMe: (me: Me | null) => void;
  refreshMe: () => Promise<Me | null>;
  logout: () => Promise<void>;
  config: UiConfig | null;
  ready: boolean;
  wall: boolean;
  setWall: (on: boolean) => void;
  /** A note for the login page (e.g. "session expired"). */
  loginNotice: MessageKey | null;
  can: (permission: string) => boolean;
}

const Ctx = createContext<AppState | null>(null);

function readStorage(key: string): string | null {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

function writeStorage(key: string, value: string): void {
  try {
    window.localStorage.setItem(key, value);
  } catch {
    /* private mode: ignore */
  }
}

function initialWall(): boolean {
  const param = new URLSearchParams(window.location.search).get('wall');
  if (param === '1' || param === 'true') {
    writeStorage(WALL_STORAGE_KEY, '1');
    return true;
  }
  if (param === '0' || param === 'false') {
    writeStorage(WALL_STORAGE_KEY, '0');
    return false;
  }
  return readStorage(WALL_STORAGE_KEY) === '1';
}

export function AppProvider({ children }: { children: ReactNode }) {
  const [locale, setLocaleState] = useState<Locale>(() => initialLocale(readStorage(LOCALE_STORAGE_KEY)));
  const [me, setMeState] = useState<Me | null>(null);
  const [config, setConfig] = useState<UiConfig | null>(null);
  const [ready, setReady] = useState(false);
  const [wall, setWallState] = useState<boolean>(initialWall);
  const [loginNotice, setLoginNotice] = useState<MessageKey | null>(null);
  const meRef = useRef<Me | null>(null);
  useEffect(() => {
    meRef.current = me;
  }, [me]);

  const applyLocale = useCallback((l: Locale) => {
    setLocaleState(l);
    writeStorage(LOCALE_STORAGE_KEY, l);
  }, []);

  // A language picked while signed out (on the login page) is carried into the account at the
  // next sign-in; otherwise the account's stored preference wins over this browser's.
  const localeRef = useRef(locale);
  const pickedWhileOut = useRef(false);
  useEffect(() => {
    localeRef.current = locale;
  }, [locale]);

  const setMe = useCallback(
    (m: Me | null) => {
      setMeState(m);
      if (!m) return;
      setLoginNotice(null);
      if (pickedWhileOut.current && m.locale !== localeRef.current) {
        pickedWhileOut.current = false;
        const l = localeRef.current;
        api
          .patch<Me>('/api/auth/me', { locale: l })
          .then((saved) => {
            if (saved && typeof saved === 'object') setMeState(saved);
          })
          .catch(() => undefined);
        return;
      }
      pickedWhileOut.current = false;
      if (m.locale === 'vi' || m.locale === 'en') applyLocale(m.locale);
    },
    [applyLocale],
  );

  const setLocale = useCallback(
    (l: Locale) => {
      applyLocale(l);
      if (!me) {
        pickedWhileOut.current = true;
        return;
      }
      if (me.locale !== l) {
        api
          .patch<Me>('/api/auth/me', { locale: l })
          .then((m) => {
            if (m && typeof m === 'object') setMeState(m);
          })
          .catch(() => undefined);
      }
    },
    [applyLocale, me],
  );

  const refreshMe = useCallback(async () => {
    try {
      const m = await request<Me>('GET', '/api/auth/me', { quietAuth: true });
      setMe(m);
      return m;
    } catch {
      setMeState(null);
      return null;
    }
  }, [setMe]);

  const logout = useCallback(async () => {
    try {
      await api.post('/api/auth/logout');
    } catch {
      /* the session is gone either way */
    }
    setMeState(null);
    navigate('/login', { replace: true });
  }, []);

  const setWall = useCallback((on: boolean) => {
    setWallState(on);
    writeStorage(WALL_STORAGE_KEY, on ? '1' : '0');
  }, []);

  // Start-up: UI configuration (public) and the current session, in parallel.
  useEffect(() => {
    let cancelled = false;
    Promise.allSettled([
      request<UiConfig>('GET', '/api/ui-config', { quietAuth: true }),
      request<Me>('GET', '/api/auth/me', { quietAuth: true }),
    ]).then(([cfg, m]) => {
      if (cancelled) return;
      if (cfg.status === 'fulfilled') setConfig(cfg.value);
      if (m.status === 'fulfilled') setMe(m.value);
      setReady(true);
    });
    return () => {
      cancelled = true;
    };
  }, [setMe]);

  // A 401 anywhere means the session ended; a 403 password-change-required sends the user to
  // the change-password page.
  useEffect(
    () =>
      onAuthProblem((err) => {
        if (err.slug === 'totp-setup-required') {
          setMeState((m) => (m ? { ...m, totp_required: true } : m));
          navigate('/setup-2fa', { replace: true });
          return;
        }
        if (err.slug === 'password-change-required') {
          setMeState((m) => (m ? { ...m, must_change_password: true } : m));
          navigate('/change-password', { replace: true });
          return;
        }
        if (meRef.current) setLoginNotice('login.sessionExpired');
        setMeState(null);
      }),
    [],
  );

  // The live channel runs while someone is signed in.
  const signedIn = me !== null;
  useEffect(() => {
    if (!signedIn) return;
    live.start();
    return () => live.stop();
  }, [signedIn]);

  useEffect(() => {
    document.documentElement.lang = locale;
    document.title = translate(locale, 'app.name') + ' · ' + translate(locale, 'app.subtitle');
  }, [locale]);

  useEffect(() => {
    document.documentElement.classList.toggle('wall', wall);
    document.documentElement.dataset.theme = wall ? 'dark' : 'light';
  }, [wall]);

  const value = useMemo<AppState>(() => {
    const perms = new Set(me?.permissions ?? []);
    return {
      locale,
      t: (key, params) => translate(locale, key, params),
      td: (key, fallback) => translateDynamic(locale, key, fallback),
      setLocale,
      me,
      setMe,
      refreshMe,
      logout,
      config,
      ready,
      wall,
      setWall,
      loginNotice,
      can: (p) => perms.has(p),
    };
  }, [locale, setLocale, me, setMe, refreshMe, logout, config, ready, wall, setWall, loginNotice]);

  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useApp(): AppState {
  const v = useContext(Ctx);
  if (!v) throw new Error('useApp outside AppProvider');
  return v;
}
