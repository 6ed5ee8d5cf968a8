import {
  type DatasetSummary,
  type SpotCheckContext,
  type SpotCheckDraw,
  type SpotCheckRecord,
  type SpotCheckStatus,
  type SpotCheckTurn,
  SpotCheckVerdict,
} from '@trajectory/contracts/messages';
import { type ReactNode, useEffect, useRef, useState } from 'react';
import { api } from './api.js';
import { Failure, Link, Show, useLoad } from './common.js';
import { DatasetPicker } from './datasets.js';
import { percent, when } from './format.js';
import { href } from './router.js';

export function SpotCheck({ params }: { params: URLSearchParams }) {
  return (
    <section>
      <h1>Spot-check</h1>
      <p className="lead">
        Look at a seeded random draw of the version's records, stratified by type, before any training. Keys: <kbd>a</kbd> accept,{' '}
        <kbd>r</kbd> reject (type the reason, <kbd>Enter</kbd> saves), <kbd>j</kbd> / <kbd>k</kbd> next / previous.
      </p>
      <DatasetPicker path="/spot-check" selected={params.get('dataset')}>
        {(dataset) => <Checker key={dataset.datasetId} dataset={dataset} />}
      </DatasetPicker>
    </section>
  );
}

function Checker({ dataset }: { dataset: DatasetSummary }) {
  // The stored draw, or the first one: the same records every time until someone redraws.
  const [draw] = useLoad(dataset.datasetId, (id) => api.draw(id));
  return (
    <Show loaded={draw}>
      {(d) => (d.records.length === 0 ? <p className="muted">This version has no records to check.</p> : <Judge draw={d} />)}
    </Show>
  );
}

const firstUnjudged = (records: SpotCheckRecord[]) =>
  Math.max(
    0,
    records.findIndex((r) => r.verdict === SpotCheckVerdict.SPOT_CHECK_VERDICT_UNSPECIFIED),
  );

/** Typing in a field is not a command. */
const typing = (target: EventTarget | null) =>
  target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));

/**
 * The records one at a time. A verdict shows and moves on at once; the calls go out one after
 * another in the order given, and the gate shows the service's answer to the last one.
 */
function Judge({ draw }: { draw: SpotCheckDraw }) {
  const [records, setRecords] = useState(draw.records);
  const [index, setIndex] = useState(() => firstUnjudged(draw.records));
  const [status, setStatus] = useState<SpotCheckStatus | undefined>(draw.status);
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState('');
  const [pending, setPending] = useState(0);
  const [error, setError] = useState<Error>();
  const queue = useRef(Promise.resolve());
  const live = useRef({ index, rejecting, records });
  live.current = { index, rejecting, records };

  const last = records.length - 1;
  const move = (by: number) => setIndex((i) => Math.min(last, Math.max(0, i + by)));

  function judge(verdict: SpotCheckVerdict, why: string) {
    const at = live.current.index;
    const record = live.current.records[at];
    if (!record) return;
    const before = record;
    const judged = { ...record, verdict, reason: why, judgedAt: new Date() };
    setRecords((rs) => rs.map((r, i) => (i === at ? judged : r)));
    setRejecting(false);
    setReason('');
    setIndex(Math.min(last, at + 1));
    setPending((n) => n + 1);
    queue.current = queue.current
      .then(() => api.verdict(draw.datasetId, record.recordId, verdict, why))
      .then(setStatus, (err: Error) => {
        setError(new Error(`The verdict on ${record.recordId} was not saved: ${err.message}`));
        setRecords((rs) => rs.map((r, i) => (i === at ? before : r)));
      })
      .finally(() => setPending((n) => n - 1));
  }

  const onKey = useRef<(event: KeyboardEvent) => void>(() => {});
  onKey.current = (event) => {
    if (typing(event.target) || event.ctrlKey || event.metaKey || event.altKey || live.current.rejecting) return;
    const commands: Record<string, () => void> = {
      a: () => judge(SpotCheckVerdict.SPOT_CHECK_VERDICT_ACCEPTED, ''),
      r: () => setRejecting(true),
      j: () => move(1),
      k: () => move(-1),
    };
    const command = commands[event.key];
    if (command) {
      event.preventDefault();
      command();
    }
  };
  useEffect(() => {
    const listener = (event: KeyboardEvent) => onKey.current(event);
    window.addEventListener('keydown', listener);
    return () => window.removeEventListener('keydown', listener);
  }, []);

  const record = records[index];
  return (
    <div className="spot-check">
      <Gate status={status} pending={pending} />
      {error && <Failure error={error} />}
      <div className="record-nav">
        <button type="button" onClick={() => move(-1)} disabled={index === 0} title="previous (k)">
          ← k
        </button>
        <span className="position" data-testid="position">
          Record {index + 1} of {records.length}
        </span>
        <button type="button" onClick={() => move(1)} disabled={index === last} title="next (j)">
          j →
        </button>
        <ol className="strip" aria-label="drawn records">
          {records.map((r, i) => (
            <li key={r.recordId}>
              <button
                type="button"
                className={`dot ${verdictClass(r.verdict)}${i === index ? ' current' : ''}`}
                title={`${i + 1}: ${r.recordType}`}
                aria-label={`record ${i + 1}`}
                onClick={() => setIndex(i)}
              />
            </li>
          ))}
        </ol>
      </div>
      {record && (
        <RecordView key={record.recordId} record={record}>
          {rejecting ? (
            <form
              className="reject"
              onSubmit={(event) => {
                event.preventDefault();
                if (reason.trim()) judge(SpotCheckVerdict.SPOT_CHECK_VERDICT_REJECTED, reason.trim());
              }}
            >
              <label>
                Why reject it?{' '}
                <input
                  // biome-ignore lint/a11y/noAutofocus: r opens this field to type the reason at once.
                  autoFocus
                  aria-label="reason"
                  value={reason}
                  onChange={(event) => setReason(event.target.value)}
                  onKeyDown={(event) => {
                    if (event.key === 'Escape') {
                      setRejecting(false);
                      setReason('');
                    }
                  }}
                  placeholder="e.g. the target is a greeting, not a thought"
                />
              </label>
              <button type="submit" disabled={!reason.trim()}>
                Reject (Enter)
              </button>
              <span className="muted">Esc cancels</span>
            </form>
          ) : (
            <div className="actions">
              <button type="button" onClick={() => judge(SpotCheckVerdict.SPOT_CHECK_VERDICT_ACCEPTED, '')}>
                Accept (a)
              </button>
              <button type="button" onClick={() => setRejecting(true)}>
                Reject (r)
              </button>
            </div>
          )}
        </RecordView>
      )}
    </div>
  );
}

const verdictClass = (verdict: SpotCheckVerdict) =>
  verdict === SpotCheckVerdict.SPOT_CHECK_VERDICT_ACCEPTED
    ? 'accepted'
    : verdict === SpotCheckVerdict.SPOT_CHECK_VERDICT_REJECTED
      ? 'rejected'
      : 'open';

/** Progress, accept rate and the gate the training service checks. */
function Gate({ status, pending }: { status: SpotCheckStatus | undefined; pending: number }) {
  if (!status) return null;
  const share = status.drawn > 0 ? status.judged / status.drawn : 0;
  return (
    <div className={`gate ${status.passed ? 'passed' : 'waiting'}`}>
      <div className="gate-state" role="status" data-testid="gate">
        {status.passed ? 'spot-check passed' : 'spot-check waiting'}
      </div>
      <div className="gate-figures">
        <span data-testid="judged">
          {status.judged} of {status.drawn} judged
        </span>
        <span data-testid="accept-rate">
          accept rate {percent(status.acceptRate)} (needs {percent(status.threshold, 0)})
        </span>
        <span>
          {status.accepted} accepted, {status.rejected} rejected
        </span>
        {pending > 0 && <span className="muted">saving…</span>}
      </div>
      <progress max={1} value={share} aria-label="judged" />
      <p className="muted">{status.summary}</p>
    </div>
  );
}

/** Field labels of each record type, in reading order (records.ts; trajectory records show their context instead). */
const FIELDS: Record<string, string[]> = {
  chat: ['instruction', 'input', 'output'],
  qa: ['question', 'answer'],
  preference: ['prompt', 'chosen', 'rejected'],
  knowledge: ['topic', 'content'],
  memory: ['kind', 'subject', 'relation', 'value', 'question', 'answer'],
};

function RecordView({ record, children }: { record: SpotCheckRecord; children: ReactNode }) {
  const context = record.context;
  const parsed = parseRecord(record.recordJson);
  const fields = FIELDS[record.recordType] ?? Object.keys(parsed).filter((k) => typeof parsed[k] === 'string');
  return (
    <article className={`record ${verdictClass(record.verdict)}`} data-testid="record">
      <header>
        <span className="type">{record.recordType}</span>
        <code>{record.recordId}</code>
        {context && (
          <span className="muted">
            {context.split} · weight {context.weight.toFixed(2)}
            {context.tags.length > 0 && ` · ${context.tags.join(', ')}`}
          </span>
        )}
        <span className="verdict" data-testid="verdict">
          {record.verdict === SpotCheckVerdict.SPOT_CHECK_VERDICT_ACCEPTED && 'accepted'}
          {record.verdict === SpotCheckVerdict.SPOT_CHECK_VERDICT_REJECTED && `rejected: ${record.reason}`}
        </span>
      </header>
      {context && (context.target || context.turns.length > 0) ? (
        <Trajectory context={context} />
      ) : (
        <dl className="fields">
          {fields.map((name) => (
            <div key={name}>
              <dt>{name}</dt>
              <dd>{String(parsed[name] ?? '')}</dd>
            </div>
          ))}
        </dl>
      )}
      {children}
      <footer className="lineage">
        {context?.conversationId && (
          <Link to={href('/conversation', { id: context.conversationId })}>conversation {context.conversationId}</Link>
        )}
        {context?.factId && <span>fact {context.factId}</span>}
        <details>
          <summary>record as stored</summary>
          <pre>{JSON.stringify(parsed, null, 2)}</pre>
        </details>
      </footer>
    </article>
  );
}

function parseRecord(json: string): Record<string, unknown> {
  try {
    return JSON.parse(json) as Record<string, unknown>;
  } catch {
    return { record: json };
  }
}

/** The preceding nodes, then the relation and the weight that made the target, then the target. */
function Trajectory({ context }: { context: SpotCheckContext }) {
  return (
    <div className="trajectory">
      <ol className="turns">
        {context.turns.map((turn, i) => (
          <Turn key={turn.nodeId || i} turn={turn} />
        ))}
      </ol>
      <div className="relation" data-testid="relation">
        <span className="relation-name">{context.relation || 'relation'}</span>
        <span>
          weight {context.weight.toFixed(2)} = relation {context.relationWeight.toFixed(2)} × decay {context.decay.toFixed(3)} (
          {Math.round(context.ageDays)} days old) × scale {context.weightScale.toFixed(3)}
        </span>
      </div>
      {context.target && (
        <ol className="turns">
          <Turn turn={context.target} target />
        </ol>
      )}
    </div>
  );
}

function Turn({ turn, target = false }: { turn: SpotCheckTurn; target?: boolean }) {
  return (
    <li className={`turn role-${turn.role}${target ? ' target' : ''}`}>
      <div className="turn-head">
        <span className="role">{target ? `${turn.role} (predicted)` : turn.role}</span>
        <span className="muted">{when(turn.createdAt)}</span>
      </div>
      <p>{turn.text}</p>
    </li>
  );
}
