import { type DatasetManifest, type DatasetSummary, type SpotCheckStatus, SpotCheckVerdict } from '@trajectory/contracts/messages';
import { api } from './api.js';
import { BarChart, ColumnChart } from './charts.js';
import { Link, Show, useLoad } from './common.js';
import { DatasetPicker } from './datasets.js';
import { when } from './format.js';
import { href } from './router.js';

/** A dataset version's report: the tables `npm start` prints, charts of the same figures, and the spot-check's rejections. */
export function Report({ params }: { params: URLSearchParams }) {
  return (
    <section>
      <h1>Dataset report</h1>
      <DatasetPicker path="/report" selected={params.get('dataset')}>
        {(dataset) => <ReportOf key={dataset.datasetId} dataset={dataset} />}
      </DatasetPicker>
    </section>
  );
}

interface Loaded {
  manifest: DatasetManifest;
  text: string;
  spotCheck: SpotCheckStatus;
}

function ReportOf({ dataset }: { dataset: DatasetSummary }) {
  const [report] = useLoad(dataset.datasetId, async (id): Promise<Loaded> => {
    const [manifest, text, spotCheck] = await Promise.all([api.dataset(id), api.report(id), api.spotCheck(id)]);
    return { manifest, text, spotCheck };
  });
  return (
    <Show loaded={report}>
      {({ manifest, text, spotCheck }) => {
        const r = manifest.report;
        return (
          <>
            <div className="summary">
              <span>
                {r?.records ?? manifest.recordCount} records from {r?.conversations ?? 0} conversations
              </span>
              <span className={manifest.gatesPassed ? 'ok' : 'bad'}>quality gates {manifest.gatesPassed ? 'passed' : 'FAILED'}</span>
              <span className={spotCheck.passed ? 'ok' : 'bad'} data-testid="report-spot-check">
                {spotCheck.passed ? 'spot-check passed' : 'spot-check waiting'}
              </span>
              <Link to={href('/spot-check', { dataset: manifest.datasetId })}>spot-check this version</Link>
            </div>
            <div className="charts">
              <BarChart
                title="Relation counts (edges by relation)"
                data={(r?.relations ?? []).map((x) => ({ label: x.name, value: x.count }))}
              />
              <ColumnChart
                title="Samples over time (conversation records by year of their target)"
                data={(r?.weightsByYear ?? []).map((x) => ({ label: x.name, value: x.records }))}
              />
              <ColumnChart
                title={`Weight distribution (records per weight range; mean ${(r?.weightMean ?? 0).toFixed(2)})`}
                data={(r?.weightHistogram ?? []).map((x) => ({ label: x.name, value: x.count }))}
              />
              <BarChart title="Records by type" data={(r?.recordsByType ?? []).map((x) => ({ label: x.name, value: x.count }))} />
            </div>
            <h2>Spot-check</h2>
            <p>{spotCheck.summary || 'not drawn yet'}</p>
            {spotCheck.rejections.length > 0 && (
              <table className="rejections">
                <thead>
                  <tr>
                    <th>rejected record</th>
                    <th>type</th>
                    <th>reason</th>
                    <th>when</th>
                  </tr>
                </thead>
                <tbody>
                  {spotCheck.rejections
                    .filter((x) => x.verdict === SpotCheckVerdict.SPOT_CHECK_VERDICT_REJECTED)
                    .map((x) => (
                      <tr key={x.recordId}>
                        <td>
                          <code>{x.recordId}</code>
                        </td>
                        <td>{x.recordType}</td>
                        <td>{x.reason}</td>
                        <td>{when(x.judgedAt)}</td>
                      </tr>
                    ))}
                </tbody>
              </table>
            )}
            <h2>Tables</h2>
            <pre className="report-text" data-testid="report-text">
              {text}
            </pre>
          </>
        );
      }}
    </Show>
  );
}
