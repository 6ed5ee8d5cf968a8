import { type MouseEvent, type ReactNode, useEffect, useState } from 'react';
import { ApiError, TOKEN_KEY } from './api.js';
import { navigate } from './router.js';

/** A link that navigates inside the page (a plain click), or opens normally (modifier keys, middle click). */
export function Link({ to, children, className }: { to: string; children: ReactNode; className?: string }) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a href={to} onClick={onClick} className={className}>
      {children}
    </a>
  );
}

export type Loaded<T> = { state: 'loading' } | { state: 'done'; value: T } | { state: 'failed'; error: Error };

/** Runs `load` whenever `key` changes; a result that arrives after the key moved on is dropped. */
export function useLoad<T>(key: string | undefined, load: (key: string) => Promise<T>): [Loaded<T>, (value: T) => void] {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: 'loading' });
  // biome-ignore lint/correctness/useExhaustiveDependencies: `load` is a fresh closure each render; the key says when to load again.
  useEffect(() => {
    if (key === undefined) return;
    let current = true;
    setLoaded({ state: 'loading' });
    load(key).then(
      (value) => current && setLoaded({ state: 'done', value }),
      (error: Error) => current && setLoaded({ state: 'failed', error }),
    );
    return () => {
      current = false;
    };
  }, [key]);
  return [loaded, (value: T) => setLoaded({ state: 'done', value })];
}

/** What went wrong; for a gateway that wants its token, a field to give it. */
export function Failure({ error }: { error: Error }) {
  const [token, setToken] = useState('');
  if (error instanceof ApiError && error.status === 401) {
    return (
      <form
        className="failure"
        onSubmit={(event) => {
          event.preventDefault();
          sessionStorage.setItem(TOKEN_KEY, token.trim());
          window.location.reload();
        }}
      >
        <p>This gateway asks for its token (TRAJECTORY_WEB_TOKEN).</p>
        <input type="password" aria-label="gateway token" value={token} onChange={(e) => setToken(e.target.value)} />
        <button type="submit">Use token</button>
      </form>
    );
  }
  return (
    <p className="failure" role="alert">
      {error.message}
    </p>
  );
}

/** Renders a Loaded value: a line while loading, the failure, or `children(value)`. */
export function Show<T>({ loaded, children }: { loaded: Loaded<T>; children: (value: T) => ReactNode }) {
  if (loaded.state === 'loading') return <p className="muted">Loading…</p>;
  if (loaded.state === 'failed') return <Failure error={loaded.error} />;
  return <>{children(loaded.value)}</>;
}
