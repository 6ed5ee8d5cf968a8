// The page's routes are paths (/spot-check?dataset=ID, /chains, /conversation?id=ID, /report?dataset=ID),
// the addresses the CLI and `npm start` print (spotCheckUrl in @trajectory/config); the gateway
// answers each with index.html. Navigation is the History API, without a router library.
import { useEffect, useState } from 'react';

export interface Location {
  path: string;
  params: URLSearchParams;
}

const current = (): Location => ({ path: window.location.pathname, params: new URLSearchParams(window.location.search) });

const CHANGE = 'trajectory:navigate';

/** Goes to `href` (a path with its query) without reloading; `replace` keeps the history entry. */
export function navigate(href: string, { replace = false } = {}): void {
  if (href === `${window.location.pathname}${window.location.search}`) return;
  if (replace) window.history.replaceState(null, '', href);
  else window.history.pushState(null, '', href);
  window.dispatchEvent(new Event(CHANGE));
}

/** The current location, updated on navigate() and on the browser's back and forward. */
export function useLocation(): Location {
  const [location, setLocation] = useState(current);
  useEffect(() => {
    const update = () => setLocation(current());
    window.addEventListener('popstate', update);
    window.addEventListener(CHANGE, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(CHANGE, update);
    };
  }, []);
  return location;
}

/** A path with its query, leaving out empty parameters. */
export function href(path: string, params: Record<string, string | undefined> = {}): string {
  const query = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => Boolean(e[1])));
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}
