// Who is signed in. People sign in with e-mail and password (an HttpOnly session cookie
// and a CSRF token for every change); staff may also use an admin API key (this tab only).
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, ApiError, setApiKey, setCsrfToken, usingApiKey } from './api';
import { clearDirectory } from './directory';
import type { User, WebConfig } from './types';

interface SessionReply {
  user: User;
  csrfToken: string;
}

export interface Session {
  ready: boolean;
  config: WebConfig;
  user: User | null;
  /** False while the server has no /v1/auth endpoints: only API-key sign-in then. */
  passwordLogin: boolean;
  timeZone: string;
  setTimeZone: (zone: string) => void;
  login: (email: string, password: string) => Promise<User>;
  loginWithKey: (key: string) => Promise<User>;
  logout: () => Promise<void>;
  /** After signing in some other way (a password-set link). */
  signedIn: (u: User) => void;
}

const FALLBACK: WebConfig = { mode: 'sandbox', timeZone: 'UTC', demo: null };
const SessionContext = createContext<Session | null>(null);

async function staffFromKey(): Promise<User> {
  await api.get('/v1/settings'); // admin only: a 403 means the key is not a staff key
  return { role: 'admin', name: 'Staff (API key)', email: '' };
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [ready, setReady] = useState(false);
  const [config, setConfig] = useState<WebConfig>(FALLBACK);
  const [user, setUser] = useState<User | null>(null);
  const [passwordLogin, setPasswordLogin] = useState(true);
  const [timeZone, setTimeZone] = useState('UTC');

  useEffect(() => {
    void (async () => {
      // Both at once: the first page is interactive one round trip sooner.
      const configured = api.get<WebConfig>('/v1/web/config').catch(() => FALLBACK);
      const session = (usingApiKey() ? staffFromKey().then((user) => ({ user, csrfToken: null })) : api.get<SessionReply>('/v1/auth/session')).then(
        (s) => ({ s, err: null }),
        (err: unknown) => ({ s: null, err }),
      );
      const cfg = await configured;
      setConfig(cfg);
      setTimeZone(cfg.timeZone);
      const { s, err } = await session;
      if (s) {
        setCsrfToken(s.csrfToken);
        setUser(s.user);
      } else {
        if (usingApiKey()) setApiKey(null);
        if (err instanceof ApiError && err.status === 404) setPasswordLogin(false);
      }
      setReady(true);
    })();
  }, []);

  const login = useCallback(async (email: string, password: string) => {
    setApiKey(null);
    const s = await api.post<SessionReply>('/v1/auth/login', { email, password });
    setCsrfToken(s.csrfToken);
    setUser(s.user);
    return s.user;
  }, []);

  const loginWithKey = useCallback(async (key: string) => {
    setApiKey(key);
    try {
      const u = await staffFromKey();
      setUser(u);
      return u;
    } catch (err) {
      setApiKey(null);
      if (err instanceof ApiError && err.status === 403) throw new Error('That key works, but it is not a staff (admin) key. Customers and providers sign in with e-mail and password.');
      throw err;
    }
  }, []);

  const logout = useCallback(async () => {
    if (!usingApiKey()) await api.post('/v1/auth/logout', {}).catch(() => undefined);
    setApiKey(null);
    setCsrfToken(null);
    clearDirectory();
    setUser(null);
  }, []);

  const value = useMemo(
    () => ({ ready, config, user, passwordLogin, timeZone, setTimeZone, login, loginWithKey, logout, signedIn: setUser }),
    [ready, config, user, passwordLogin, timeZone, login, loginWithKey, logout],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

export function useTimeZone(): string {
  return useSession().timeZone;
}

/** Where each role starts. */
export function homeOf(user: User): string {
  return user.role === 'admin' ? '/admin/orders' : user.role === 'customer' ? '/portal' : '/provider';
}
