/**
 * The HTML report: one self-contained page (inline CSS, inline SVG, a small
 * inline script, no request to anywhere) rendered from {@link ReportData}.
 *
 * Safety rules, in order of importance:
 * - Every piece of text that came from a certificate, a server or the config
 *   goes through the `html` target of the untrusted-text rules (entity-escaped,
 *   controls and bidi shown as escapes) and only ever lands in element text or
 *   a double-quoted attribute. Nothing from the data reaches the script or the
 *   style sheet: both are constants, and the filters refer to owners and tags
 *   by index (`o3`, `t1`), never by their text.
 * - The Content-Security-Policy allows only that one script and that one style
 *   sheet, by hash, and nothing else (no network, no images, no forms), so even
 *   a mistake in escaping could not run script or load anything.
 *
 * Pure: data in, string out; the clock is `data.generatedAt`.
 */
import { createHash } from 'node:crypto';
import { DAY_MS, describeDaysLeft } from '../core/day-count';
import type { ChainCertificate, Status } from '../core/model';
import { STATUS_RANK } from '../core/model';
import { cleanUntrusted, escapeHtml } from '../core/untrusted-text';
import type { ReportData, ReportHistoryPoint, ReportRow } from './report-data';

/** How far ahead the timeline looks. */
export const TIMELINE_DAYS = 90;
/** Most lanes the timeline draws; the rest are counted below it. */
export const TIMELINE_MAX_LANES = 40;

/** Colours of each status: the table's status cells, the timeline's bars and the summary chips. */
export const STATUS_COLOURS = {
  ok: { background: '#1a7f37', text: '#ffffff' },
  warning: { background: '#d4a72c', text: '#1f2328' },
  critical: { background: '#e0620d', text: '#ffffff' },
  expired: { background: '#a40e26', text: '#ffffff' },
  error: { background: '#6639ba', text: '#ffffff' },
} as const satisfies Record<Status, { readonly background: string; readonly text: string }>;

/** Statuses worst first, as the summary and the status filter list them. */
const STATUSES_WORST_FIRST = (Object.keys(STATUS_RANK) as Status[]).sort(
  (a, b) => STATUS_RANK[b] - STATUS_RANK[a],
);

/** Untrusted text for element text or a double-quoted attribute. */
function text(value: string, maxLength?: number): string {
  return cleanUntrusted(value, { target: 'html', ...(maxLength === undefined ? {} : { maxLength }) });
}

/** A certificate field exactly as sent (nothing collapsed), for the chain details. */
function field(value: string | null): string {
  return value === null ? '—' : cleanUntrusted(value, { target: 'html', layout: 'verbatim' });
}

/** `2030-03-01 10:00 UTC`. */
function displayTime(iso: string | null): string {
  if (iso === null) return '—';
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return text(iso, 40);
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function displayDate(iso: string | null): string {
  if (iso === null) return '—';
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? new Date(ms).toISOString().slice(0, 10) : text(iso, 40);
}

const STYLE = `
:root{color-scheme:light;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#ffffff;--panel:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;padding:24px 32px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:16px;margin:28px 0 8px}
.meta{color:var(--muted);margin:0 0 12px}
.chips{display:flex;gap:8px;flex-wrap:wrap;margin:8px 0}
.chip{border-radius:12px;padding:2px 10px;font-weight:600}
.panel{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:12px}
.filters{display:flex;gap:16px;align-items:center;flex-wrap:wrap;margin:0 0 8px}
.filters select{font:inherit;padding:2px 4px}
table.report{border-collapse:collapse;width:100%}
table.report th{text-align:left;font-weight:600;border-bottom:2px solid var(--line);padding:6px 8px;white-space:nowrap}
table.report td{border-top:1px solid var(--line);padding:6px 8px;vertical-align:middle}
table.report tr.chain td{border-top:none;padding:0 8px 8px}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.status{text-align:center}
.pill{display:inline-block;min-width:72px;font-weight:600;border-radius:4px;padding:2px 8px;white-space:nowrap}
.name{font-weight:600;overflow-wrap:anywhere}
.sub,.tags{color:var(--muted);font-size:12px;overflow-wrap:anywhere}
.tag{display:inline-block;border:1px solid var(--line);border-radius:10px;padding:0 6px;margin:1px 2px 1px 0;font-size:12px}
details summary{cursor:pointer;color:var(--muted);font-size:12px}
dl.cert{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:6px 0 10px 12px;font-size:12px}
dl.cert dt{color:var(--muted)}
dl.cert dd{margin:0;font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;overflow-wrap:anywhere}
h3{font-size:13px;margin:8px 0 0}
svg text{font:11px system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;fill:var(--fg)}
svg .axis{stroke:var(--line)}
svg .label{fill:var(--muted)}
.spark .days{fill:none;stroke:#0969da;stroke-width:1.5}
.spark .fail{fill:#cf222e}
.spark .dot{fill:#0969da}
.empty{color:var(--muted)}
${STATUSES_WORST_FIRST.map(
  (s) =>
    `.status-${s}{background:${STATUS_COLOURS[s].background};color:${STATUS_COLOURS[s].text}}\n.fill-${s}{fill:${STATUS_COLOURS[s].background}}`,
).join('\n')}
`;

/** Shows the rows whose status, owner and tag match the three selects; a constant, so its hash pins it. */
const SCRIPT = `
(function () {
  var status = document.getElementById('filter-status');
  var owner = document.getElementById('filter-owner');
  var tag = document.getElementById('filter-tag');
  var shown = document.getElementById('shown-count');
  var groups = document.querySelectorAll('tbody.endpoint');
  function apply() {
    var n = 0;
    for (var i = 0; i < groups.length; i++) {
      var g = groups[i];
      var tags = ' ' + (g.getAttribute('data-tags') || '') + ' ';
      var visible =
        (!status.value || g.getAttribute('data-status') === status.value) &&
        (!owner.value || g.getAttribute('data-owner') === owner.value) &&
        (!tag.value || tags.indexOf(' ' + tag.value + ' ') >= 0);
      g.hidden = !visible;
      if (visible) n++;
    }
    shown.textContent = String(n);
  }
  status.addEventListener('change', apply);
  owner.addEventListener('change', apply);
  tag.addEventListener('change', apply);
  apply();
})();
`;

function sha256Base64(source: string): string {
  return createHash('sha256').update(source, 'utf8').digest('base64');
}

/** The page's policy: its own script and style sheet by hash, nothing else from anywhere. */
export const REPORT_CSP = [
  "default-src 'none'",
  `script-src 'sha256-${sha256Base64(SCRIPT)}'`,
  `style-src 'sha256-${sha256Base64(STYLE)}'`,
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** The owner and tag filters refer to values by index, so no config text reaches the script. */
interface FilterValues {
  readonly owners: readonly string[];
  readonly tags: readonly string[];
}

function filterValues(rows: readonly ReportRow[]): FilterValues {
  const owners = new Set<string>();
  const tags = new Set<string>();
  for (const r of rows) {
    if (r.owner !== null) owners.add(r.owner);
    for (const t of r.tags) tags.add(t);
  }
  return { owners: [...owners].sort(), tags: [...tags].sort() };
}

function statusCell(status: Status): string {
  return `<td class="status"><span class="pill status-${status}" data-status="${status}">${status}</span></td>`;
}

function summaryChips(rows: readonly ReportRow[]): string {
  const counts = new Map<Status, number>();
  for (const r of rows) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  const chips = STATUSES_WORST_FIRST.filter((s) => (counts.get(s) ?? 0) > 0).map(
    (s) => `<span class="chip status-${s}">${counts.get(s)} ${s}</span>`,
  );
  return `<div class="chips" id="summary">${chips.join('')}</div>`;
}

/** Horizontal bars from now to each expiry within the window, soonest on top, coloured by status. */
export function renderTimeline(rows: readonly ReportRow[], generatedAt: string): string {
  const now = Date.parse(generatedAt);
  const end = now + TIMELINE_DAYS * DAY_MS;
  const due = rows
    .filter((r) => r.notAfter !== null && Date.parse(r.notAfter) <= end)
    .sort((a, b) => Date.parse(a.notAfter ?? '') - Date.parse(b.notAfter ?? ''));
  if (due.length === 0)
    return `<p class="empty" id="timeline-empty">No certificate expires in the next ${TIMELINE_DAYS} days.</p>`;
  const lanes = due.slice(0, TIMELINE_MAX_LANES);
  const labelWidth = 260;
  const chartWidth = 640;
  const laneHeight = 18;
  const top = 22;
  const height = top + lanes.length * laneHeight + 8;
  const x = (ms: number) => labelWidth + Math.max(0, Math.min(1, (ms - now) / (end - now))) * chartWidth;
  const grid = [0, 7, 14, 30, 60, 90]
    .map((d) => {
      const gx = x(now + d * DAY_MS).toFixed(1);
      return `<line class="axis" x1="${gx}" y1="${top - 4}" x2="${gx}" y2="${height}"/><text class="label" x="${gx}" y="12" text-anchor="middle">${d === 0 ? 'today' : `${d} d`}</text>`;
    })
    .join('');
  const bars = lanes
    .map((r, i) => {
      const y = top + i * laneHeight;
      const at = Date.parse(r.notAfter ?? '');
      const bx = x(at);
      const name = r.address === null ? r.endpointName : `${r.endpointName} ${r.address}`;
      const days = r.daysLeft === null ? '' : describeDaysLeft(r.daysLeft);
      return (
        `<g class="lane" data-key="${text(r.key)}"><title>${text(name)}: ${r.status}, ${displayDate(r.notAfter)}</title>` +
        `<text x="0" y="${y + 12}">${text(name, 40)}</text>` +
        `<rect class="fill-${r.status}" x="${labelWidth}" y="${y + 3}" width="${Math.max(2, bx - labelWidth).toFixed(1)}" height="${laneHeight - 6}" rx="2" opacity="0.85"/>` +
        `<text class="label" x="${(Math.min(bx, labelWidth + chartWidth - 70) + 4).toFixed(1)}" y="${y + 12}">${days}</text></g>`
      );
    })
    .join('');
  const more =
    due.length > lanes.length
      ? `<p class="meta">and ${due.length - lanes.length} more within ${TIMELINE_DAYS} days (see the table).</p>`
      : '';
  return (
    `<svg id="timeline-svg" role="img" aria-label="Expiries in the next ${TIMELINE_DAYS} days" width="${labelWidth + chartWidth + 80}" height="${height}" viewBox="0 0 ${labelWidth + chartWidth + 80} ${height}">` +
    `${grid}${bars}</svg>${more}`
  );
}

/** Days left over time (a line) and failed checks (red ticks), oldest on the left. */
export function renderSparkline(history: readonly ReportHistoryPoint[]): string {
  const width = 120;
  const height = 28;
  if (history.length === 0) return '<span class="empty">—</span>';
  const times = history.map((p) => Date.parse(p.checkedAt));
  const t0 = Math.min(...times);
  const t1 = Math.max(...times);
  const days = history.flatMap((p) => (p.daysLeft === null ? [] : [p.daysLeft]));
  const lo = Math.min(0, ...days);
  const hi = Math.max(1, ...days);
  const px = (t: number) => (t1 === t0 ? width / 2 : 2 + ((t - t0) / (t1 - t0)) * (width - 4));
  const py = (d: number) => 2 + (1 - (d - lo) / (hi - lo)) * (height - 8);
  const points = history
    .map((p, i) =>
      p.daysLeft === null ? null : `${px(times[i] ?? t0).toFixed(1)},${py(p.daysLeft).toFixed(1)}`,
    )
    .filter((p) => p !== null);
  const failures = history.filter((p) => p.failed).length;
  const ticks = history
    .map((p, i) =>
      p.failed
        ? `<rect class="fail" x="${(px(times[i] ?? t0) - 1).toFixed(1)}" y="${height - 5}" width="2" height="5"/>`
        : '',
    )
    .join('');
  const first = days[0];
  const last = days[days.length - 1];
  const summary =
    `${history.length} check${history.length === 1 ? '' : 's'}, ${failures} failed` +
    (first !== undefined && last !== undefined ? `, days left ${first} → ${last}` : '');
  const line = points.length > 1 ? `<polyline class="days" points="${points.join(' ')}"/>` : '';
  const dot =
    points.length === 1
      ? `<circle class="dot" cx="${points[0]?.split(',')[0]}" cy="${points[0]?.split(',')[1]}" r="2"/>`
      : '';
  return (
    `<svg class="spark" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${summary}" data-failures="${failures}">` +
    `<title>${summary}</title>${line}${dot}${ticks}</svg>`
  );
}

function renderCertificate(cert: ChainCertificate, index: number, count: number): string {
  const role = index === 0 ? 'Leaf' : index === count - 1 && cert.selfSigned ? 'Root' : 'Intermediate';
  const key = cert.keyBits === null ? cert.keyType : `${cert.keyType} ${cert.keyBits}`;
  const rows: [string, string][] = [
    ['Subject', field(cert.subject)],
    ['Issuer', field(cert.issuer)],
    ['Not before', displayTime(cert.notBefore)],
    ['Not after', displayTime(cert.notAfter)],
    ['Key', text(key, 40)],
    ['Signature', field(cert.signatureAlgorithm)],
    ['Serial', field(cert.serialNumber)],
    ['SHA-256', field(cert.fingerprintSha256)],
  ];
  return (
    `<h3>${index}: ${role}${cert.selfSigned ? ' (self-signed)' : ''}</h3><dl class="cert">` +
    rows.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('') +
    '</dl>'
  );
}

function renderChain(row: ReportRow, columns: number): string {
  const findings =
    row.findings.length === 0
      ? ''
      : `<h3>Findings</h3><ul>${row.findings.map((f) => `<li><code>${text(f.code)}</code> ${text(f.message, 300)}</li>`).join('')}</ul>`;
  const chain =
    row.chain.length === 0
      ? '<p class="empty">No certificate stored.</p>'
      : `<p class="sub">Seen ${displayTime(row.chainCheckedAt)}</p>${row.chain.map((c, i) => renderCertificate(c, i, row.chain.length)).join('')}`;
  const leaf = row.chain[0];
  const label =
    row.chain.length === 0
      ? 'Details'
      : `Chain: ${row.chain.length} certificate${row.chain.length === 1 ? '' : 's'}, leaf SHA-256 ${text(leaf?.fingerprintSha256.slice(0, 16) ?? '', 20)}…`;
  return `<tr class="chain"><td colspan="${columns}"><details><summary>${label}</summary>${findings}${chain}</details></td></tr>`;
}

const COLUMNS = [
  'Endpoint',
  'Status',
  'Days left',
  'Expires',
  'Issuer',
  'Owner',
  'Tags',
  'History',
  'Last check',
];

function renderRow(row: ReportRow, filters: FilterValues): string {
  const ownerId = row.owner === null ? '' : `o${filters.owners.indexOf(row.owner)}`;
  const tagIds = row.tags.map((t) => `t${filters.tags.indexOf(t)}`).join(' ');
  const days = row.daysLeft === null ? '—' : String(row.daysLeft);
  const failures =
    row.consecutiveFailures > 0
      ? `<div class="sub">${row.consecutiveFailures} failed check${row.consecutiveFailures === 1 ? '' : 's'} in a row</div>`
      : '';
  const quiet = row.suppressedBy
    ? `<div class="sub suppressed">${row.suppressedBy.kind === 'maintenance' ? `in maintenance ${text(row.suppressedBy.name, 80)}` : `silenced: ${text(row.suppressedBy.name, 80)}`} until ${displayTime(row.suppressedBy.until)}</div>`
    : '';
  const sub = [row.endpointName === row.endpointId ? null : row.endpointId, row.address]
    .filter((s) => s !== null)
    .map((s) => text(s, 80))
    .join(' · ');
  return (
    `<tbody class="endpoint" data-key="${text(row.key)}" data-status="${row.status}" data-owner="${ownerId}" data-tags="${tagIds}">` +
    '<tr class="row">' +
    `<td><div class="name">${text(row.endpointName, 120)}</div>${sub ? `<div class="sub">${sub}</div>` : ''}${failures}${quiet}</td>` +
    statusCell(row.status) +
    `<td class="num days">${days}</td>` +
    `<td>${displayDate(row.notAfter)}</td>` +
    `<td class="sub">${row.issuer === null ? '—' : text(row.issuer, 80)}</td>` +
    `<td>${row.owner === null ? '—' : text(row.owner, 60)}</td>` +
    `<td class="tags">${row.tags.map((t) => `<span class="tag">${text(t, 40)}</span>`).join('')}</td>` +
    `<td>${renderSparkline(row.history)}</td>` +
    `<td class="sub">${displayTime(row.lastCheckedAt)}</td>` +
    `</tr>${renderChain(row, COLUMNS.length)}</tbody>`
  );
}

function option(value: string, label: string): string {
  return `<option value="${escapeHtml(value)}">${label}</option>`;
}

function renderFilters(filters: FilterValues, total: number): string {
  const statuses = STATUSES_WORST_FIRST.map((s) => option(s, s)).join('');
  const owners = filters.owners.map((o, i) => option(`o${i}`, text(o, 60))).join('');
  const tags = filters.tags.map((t, i) => option(`t${i}`, text(t, 40))).join('');
  return (
    '<div class="filters">' +
    `<label>Status <select id="filter-status">${option('', 'all')}${statuses}</select></label>` +
    `<label>Owner <select id="filter-owner">${option('', 'all')}${owners}</select></label>` +
    `<label>Tag <select id="filter-tag">${option('', 'all')}${tags}</select></label>` +
    `<span class="meta"><span id="shown-count">${total}</span> of ${total} shown</span>` +
    '</div>'
  );
}

/** The whole page. */
export function renderReport(data: ReportData): string {
  const filters = filterValues(data.rows);
  const table =
    data.rows.length === 0
      ? `<p class="empty" id="no-rows">No stored state. Run 'certwatch run' first.</p>`
      : `${renderFilters(filters, data.rows.length)}<table class="report" id="report-table"><thead><tr>${COLUMNS.map((c) => `<th>${c}</th>`).join('')}</tr></thead>` +
        `${data.rows.map((r) => renderRow(r, filters)).join('')}</table>`;
  const omitted =
    data.omitted > 0
      ? `<p class="meta">${data.omitted} less urgent address${data.omitted === 1 ? '' : 'es'} not shown.</p>`
      : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>certwatch report</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>certwatch report</h1>
<p class="meta">Generated ${displayTime(data.generatedAt)} from ${text(data.source, 200)} · ${data.rows.length} address${data.rows.length === 1 ? '' : 'es'}</p>
${summaryChips(data.rows)}
</header>
<section id="timeline"><h2>Expiries in the next ${TIMELINE_DAYS} days</h2><div class="panel">${renderTimeline(data.rows, data.generatedAt)}</div></section>
<section id="endpoints"><h2>Endpoints, fewest days left first</h2>${table}${omitted}</section>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
