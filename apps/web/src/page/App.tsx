import type { ReactNode } from 'react';
import { Chains } from './Chains.js';
import { Conversation } from './Conversation.js';
import { Link } from './common.js';
import { Report } from './Report.js';
import { useLocation } from './router.js';
import { SpotCheck } from './SpotCheck.js';

const PAGES = [
  { path: '/spot-check', title: 'Spot-check' },
  { path: '/chains', title: 'Chains' },
  { path: '/conversation', title: 'Conversation' },
  { path: '/report', title: 'Report' },
];

export function App() {
  const { path, params } = useLocation();
  const page = PAGES.find((p) => p.path === path) ?? PAGES[0];
  let content: ReactNode;
  switch (page?.path) {
    case '/chains':
      content = <Chains params={params} />;
      break;
    case '/conversation':
      content = <Conversation params={params} />;
      break;
    case '/report':
      content = <Report params={params} />;
      break;
    default:
      content = <SpotCheck params={params} />;
  }
  return (
    <>
      <header className="top">
        <span className="brand">Trajectory</span>
        <nav>
          {PAGES.map((p) => (
            <Link key={p.path} to={p.path} className={p === page ? 'active' : undefined}>
              {p.title}
            </Link>
          ))}
        </nav>
      </header>
      <main>{content}</main>
    </>
  );
}
