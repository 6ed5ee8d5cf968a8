import type { DatasetSummary } from '@trajectory/contracts/messages';
import { type ReactNode, useEffect } from 'react';
import { api } from './api.js';
import { Show, useLoad } from './common.js';
import { when } from './format.js';
import { href, navigate } from './router.js';

/**
 * The stored dataset versions as a select, newest first; `children` gets the chosen one (the URL's
 * `?dataset=`, else the newest, which the URL then names).
 */
export function DatasetPicker({
  path,
  selected,
  children,
}: {
  path: string;
  selected: string | null;
  children: (dataset: DatasetSummary) => ReactNode;
}) {
  const [datasets] = useLoad('all', () => api.datasets());
  const list = datasets.state === 'done' ? datasets.value : [];
  const chosen = list.find((d) => d.datasetId === selected) ?? (selected ? undefined : list[0]);
  useEffect(() => {
    if (!selected && chosen) navigate(href(path, { dataset: chosen.datasetId }), { replace: true });
  }, [path, selected, chosen]);
  return (
    <Show loaded={datasets}>
      {(all) =>
        all.length === 0 ? (
          <p className="muted">
            No dataset version yet: build one with <code>npx trajectory dataset</code> (or <code>npm start</code>).
          </p>
        ) : (
          <>
            <label className="picker">
              Dataset version{' '}
              <select
                aria-label="dataset version"
                value={chosen?.datasetId ?? ''}
                onChange={(event) => navigate(href(path, { dataset: event.target.value }))}
              >
                {!chosen && <option value="">{selected} (not found)</option>}
                {all.map((d) => (
                  <option key={d.datasetId} value={d.datasetId}>
                    {`v${d.version} · ${d.datasetId} · ${d.recordCount} records · ${when(d.builtAt)}${d.gatesPassed ? '' : ' · gates FAILED'}`}
                  </option>
                ))}
              </select>
            </label>
            {chosen ? children(chosen) : <p className="failure">No dataset version {selected}.</p>}
          </>
        )
      }
    </Show>
  );
}
