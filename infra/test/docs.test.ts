// docs/operations.md and docs/deploy.md against what is deployed (issue 26): the alarms of the
// synthesized template, the metrics the function emits (crates/floodgate-aws/src/metrics.rs) and
// the reserved concurrency. Names are matched in the docs' tables, not in their prose, so a new
// alarm, a renamed metric or a changed default fails here until the docs say so.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { Template } from 'aws-cdk-lib/assertions';
import { settingsFromContext } from '../lib/config';
import { FloodgateStack, FloodgateStackProps } from '../lib/floodgate-stack';
import { floodgateFunction, makeStack } from './helpers';

const ROOT = path.resolve(__dirname, '..', '..');
const read = (rel: string) => fs.readFileSync(path.join(ROOT, rel), 'utf8');
const OPERATIONS = read('docs/operations.md');
const DEPLOY = read('docs/deploy.md');
const METRICS_RS = read('crates/floodgate-aws/src/metrics.rs');

/** The text under `## <heading>` up to the next `## ` heading. */
function section(doc: string, heading: string): string {
  const start = doc.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `no section "## ${heading}"`);
  const rest = doc.slice(start + heading.length + 5);
  const end = rest.search(/\n## /);
  return end < 0 ? rest : rest.slice(0, end);
}

/** The body rows (cells trimmed) of the one Markdown table in `text` whose header starts with `first`. */
function table(text: string, first: string): string[][] {
  const lines = text.split('\n');
  const found: string[][][] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].startsWith('|') || (i > 0 && lines[i - 1].startsWith('|'))) continue;
    const rows: string[][] = [];
    for (let j = i; j < lines.length && lines[j].startsWith('|'); j++) {
      rows.push(lines[j].replace(/^\||\|$/g, '').split('|').map((c) => c.trim()));
    }
    if (rows[0][0] === first) found.push(rows.slice(2));
  }
  assert.equal(found.length, 1, `one table whose first column is "${first}"`);
  return found[0];
}

/** The name a row stands for: its first cell's leading word, backticks or not (`Refused`, DlqNotEmpty (`s3`)). */
const rowName = (row: string[]) => /^`?([A-Za-z][A-Za-z0-9]*)`?/.exec(row[0])?.[1] ?? assert.fail(`no name in ${row[0]}`);
const plain = (cell: string) => cell.replace(/`/g, '');
const word = (w: string) => new RegExp(`(^|[^A-Za-z0-9])${w.replace(/[/.]/g, '\\$&')}([^A-Za-z0-9]|$)`);

// ---------------------------------------------------------------- the function's metrics

/** Name and unit of every EMF metric `Metrics::values` emits (the `("Name", value, "Unit")` tuples). */
const EMITTED = new Map([...METRICS_RS.matchAll(/\("([A-Z][A-Za-z]*)",\s*[\w.]+,\s*"([A-Za-z]+)"\)/g)].map((m) => [m[1], m[2]]));

// ---------------------------------------------------------------- the stack's alarms

/** Variants that between them create every alarm: the default (`s3`), Kinesis sources, CloudWatch Logs alone, and partials. */
const VARIANTS: Record<string, FloodgateStackProps> = {
  'default (s3)': {},
  'cloudfront-realtime': { sources: ['cloudfront-realtime'] },
  'waf-cloudwatch, logsDelivery=kinesis': { sources: ['waf-cloudwatch'], logsDelivery: 'kinesis' },
  'waf-cloudwatch (lambda)': { sources: ['waf-cloudwatch'] },
  's3, partials=true': { partials: true },
};

interface DeployedAlarm { readonly id: string; readonly props: any } // eslint-disable-line @typescript-eslint/no-explicit-any

/** The alarms of a stack by construct id (FunctionErrors, …) with their template properties. */
function alarmsOf(stack: FloodgateStack): DeployedAlarm[] {
  const t = Template.fromStack(stack);
  const resources = t.findResources('AWS::CloudWatch::Alarm');
  assert.equal(Object.keys(resources).length, stack.monitoring.alarms.length,
    'every alarm of the template is one of FloodgateMonitoring\'s (the ones the docs are checked against)');
  return stack.monitoring.alarms.map((a) => {
    const logicalId = stack.getLogicalId(a.node.defaultChild as any); // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.ok(resources[logicalId], `alarm ${a.node.id} is in the template as ${logicalId}`);
    return { id: a.node.id, props: resources[logicalId].Properties };
  });
}

const DEPLOYED: Record<string, DeployedAlarm[]> = Object.fromEntries(
  Object.entries(VARIANTS).map(([name, props]) => [name, alarmsOf(makeStack(props))]));

/** Every alarm any variant has, by id (the same id has the same metric in each). */
const ALL_ALARMS = new Map(Object.values(DEPLOYED).flat().map((a) => [a.id, a]));

const COMPARISON: Record<string, string> = { '≥': 'GreaterThanOrEqualToThreshold', '>': 'GreaterThanThreshold' };

/** Checks one docs alarm row (alarm | metric | fires when | …) against the template's alarm. */
function checkAlarmRow(doc: string, row: string[], alarm: DeployedAlarm) {
  const [, metricCell, firesCell] = row;
  const p = alarm.props;
  const where = `${doc} alarm ${alarm.id}`;
  assert.match(plain(metricCell), word(p.MetricName), `${where}: the metric cell names ${p.MetricName}`);
  if (p.Namespace.startsWith('AWS/')) {
    assert.match(plain(metricCell), word(p.Namespace), `${where}: the metric cell names ${p.Namespace}`);
  } else {
    assert.match(metricCell, /EMF/, `${where}: an EMF metric (namespace ${p.Namespace}) says EMF`);
    assert.ok(EMITTED.has(p.MetricName), `${where}: alarms on ${p.MetricName}, which metrics.rs does not emit`);
  }
  const stat = /\((Sum|Maximum|Minimum|Average|SampleCount)\)/.exec(metricCell)?.[1];
  if (stat) assert.equal(p.Statistic, stat, `${where}: statistic`);
  const fires = /^(≥|>)\s*(\d+)?/.exec(firesCell) ?? assert.fail(`${where}: "fires when" must start with ≥ or >: ${firesCell}`);
  assert.equal(p.ComparisonOperator, COMPARISON[fires[1]], `${where}: comparison ${fires[1]}`);
  if (fires[2] !== undefined) assert.equal(p.Threshold, Number(fires[2]), `${where}: threshold`);
  const span = /for (\d+) min/.exec(firesCell);
  assert.equal(p.EvaluationPeriods * p.Period, span ? Number(span[1]) * 60 : p.Period, `${where}: evaluated over ${span?.[0] ?? 'one period'}`);
}

describe('docs agree with the stack and the function (docs/operations.md, docs/deploy.md)', () => {
  const opsSection = section(OPERATIONS, 'Metrics and alarms');
  const opsAlarms = table(opsSection, 'alarm');
  const deployAlarms = table(section(DEPLOY, 'Alarms'), 'alarm');

  it('metrics.rs is read: it emits StateBytes and the alarmed counters', () => {
    for (const m of ['SyncFailures', 'GuardrailTripped', 'BansHeldBack', 'Refused', 'SinkFailures', 'StateBytes', 'Records']) {
      assert.ok(EMITTED.has(m), `the metrics.rs pattern no longer finds ${m}: update EMITTED's regex`);
    }
  });

  it('operations.md "Metrics and alarms" lists exactly the metrics the function emits, with their units', () => {
    const documented = new Map(table(opsSection, 'metric').map((r) => [rowName(r), r[1]]));
    assert.deepEqual([...documented.keys()].sort(), [...EMITTED.keys()].sort(),
      'metric names in operations.md vs Metrics::values in crates/floodgate-aws/src/metrics.rs');
    for (const [name, unit] of EMITTED) assert.equal(documented.get(name), unit, `unit of ${name}`);
  });

  for (const [doc, rows] of [['operations.md', opsAlarms], ['deploy.md', deployAlarms]] as const) {
    it(`${doc} documents every alarm of the template and no other`, () => {
      assert.deepEqual(rows.map(rowName).sort(), [...ALL_ALARMS.keys()].sort(),
        `alarms documented in ${doc} vs the alarms of the stack variants ${Object.keys(VARIANTS).join('; ')}`);
    });

    it(`${doc}: each alarm's metric, statistic, comparison, threshold and period`, () => {
      for (const row of rows) {
        const alarm = ALL_ALARMS.get(rowName(row));
        if (alarm) checkAlarmRow(doc, row, alarm);
      }
    });
  }

  it('operations.md says which stacks have each alarm ("always" or the sources that create it)', () => {
    for (const row of opsAlarms) {
      const id = rowName(row);
      const having = Object.entries(DEPLOYED).filter(([, alarms]) => alarms.some((a) => a.id === id)).map(([v]) => v);
      if (row[3] === 'always') {
        assert.deepEqual(having, Object.keys(VARIANTS), `${id} is documented as always there`);
      } else {
        assert.ok(having.length < Object.keys(VARIANTS).length, `${id} is in every variant: document it as "always"`);
        // The variants that have it are the ones whose sources the row names.
        for (const v of Object.keys(VARIANTS)) {
          // A variant has it when the row names one of the variant's sources or settings.
          const named = v.split(/[ ,()]+/).filter((s) => s !== '' && s !== 'default' && s !== 'lambda')
            .some((s) => row[3].includes(`\`${s}\``));
          assert.equal(having.includes(v), named, `${id} (exists: ${row[3]}) in the variant ${v}`);
        }
      }
    }
  });

  it('the reserved concurrency the docs give as the default is the template\'s', () => {
    const contextRow = table(section(DEPLOY, '2. Deploy'), 'key').find((r) => r[0] === '`reservedConcurrency`')
      ?? assert.fail('deploy.md context table has no reservedConcurrency row');
    const documented = /^`([^`]+)`$/.exec(contextRow[1])?.[1] ?? assert.fail(`default cell ${contextRow[1]}`);
    for (const [doc, text] of [['deploy.md', DEPLOY], ['operations.md', OPERATIONS]]) {
      const stated = [...text.matchAll(/`reservedConcurrency=([^`]+)`, the default/g)].map((m) => m[1]);
      assert.ok(stated.length > 0, `${doc} states the default as "\`reservedConcurrency=…\`, the default"`);
      for (const s of stated) assert.equal(s, documented, `${doc} vs deploy.md's context table`);
      for (const m of text.matchAll(/reserved concurrency (\d+) \(the default\)/gi)) {
        assert.equal(m[1], documented, `${doc}: "${m[0]}"`);
      }
    }
    // The documented default, read as the context value it is, deploys as the default stack does.
    const fromContext = settingsFromContext((k) => (k === 'reservedConcurrency' ? documented : undefined)).reservedConcurrency;
    const deployed = (props: FloodgateStackProps) =>
      floodgateFunction(Template.fromStack(makeStack(props)))[1].Properties.ReservedConcurrentExecutions;
    assert.equal(deployed({ reservedConcurrency: fromContext }), deployed({}));
    assert.equal(deployed({}), documented === 'none' ? undefined : Number(documented),
      `the default stack's ReservedConcurrentExecutions vs the documented ${documented}`);
  });
});
