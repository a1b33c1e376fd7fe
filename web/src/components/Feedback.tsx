// Visible feedback for every action: a polite live region with the latest outcomes, and
// useAction() to run one (pending state, the server's error kept next to the form).
import { createContext, useCallback, useContext, useRef, useState, type ReactNode } from 'react';
import { ApiError, errorMessage } from '../lib/api';

interface Toast {
  id: number;
  text: string;
  kind: 'success' | 'error';
}

const FeedbackContext = createContext<(text: string, kind?: Toast['kind']) => void>(() => {});

export function FeedbackProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const next = useRef(1);
  const notify = useCallback((text: string, kind: Toast['kind'] = 'success') => {
    const id = next.current++;
    setToasts((t) => [...t.slice(-2), { id, text, kind }]);
    setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), 8000);
  }, []);
  return (
    <FeedbackContext.Provider value={notify}>
      {children}
      <div className="toasts" role="status" aria-live="polite" data-testid="feedback">
        {toasts.map((t) => (
          <p key={t.id} className={`toast toast-${t.kind}`}>
            {t.text}
            <button type="button" className="toast-close" aria-label="Dismiss" onClick={() => setToasts((all) => all.filter((x) => x.id !== t.id))}>
              ×
            </button>
          </p>
        ))}
      </div>
    </FeedbackContext.Provider>
  );
}

export function useNotify() {
  return useContext(FeedbackContext);
}

export interface Action {
  pending: boolean;
  error: unknown;
  /** Runs `fn`; on success says `success` (or what it returns); on failure keeps the error. */
  run: <T>(fn: () => Promise<T>, success?: string | ((value: T) => string)) => Promise<T | undefined>;
  setError: (err: unknown) => void;
}

export function useAction(): Action {
  const notify = useNotify();
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = useCallback(
    async <T,>(fn: () => Promise<T>, success?: string | ((value: T) => string)) => {
      setPending(true);
      setError(null);
      try {
        const value = await fn();
        if (success) notify(typeof success === 'function' ? success(value) : success);
        return value;
      } catch (err) {
        setError(err);
        return undefined;
      } finally {
        setPending(false);
      }
    },
    [notify],
  );
  return { pending, error, run, setError };
}

/** The server's message, word for word, where the form is. */
export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  const code = error instanceof ApiError ? error.code : null;
  return (
    <p className="error-note" role="alert">
      {errorMessage(error)}
      {code && code !== 'client_validation' ? <span className="error-code"> ({code})</span> : null}
    </p>
  );
}
