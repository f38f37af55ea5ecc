// The side panel: the sandbox cluster's services, the weights of their routes, versions per
// track, traffic shares and small live charts of error rate and p99 latency, from /sandbox/v1/overview (polled once a second).
import { escapeHtml } from './blocks.js';

const TRACK_COLOURS = { stable: '#1264a3', canary: '#e8912d', blue: '#2b7bd6', green: '#2bac76', preview: '#9b51e0' };
const EXTRA = ['#9b51e0', '#e01e5a', '#4a9a8b', '#b58105'];

function colourOf(v, i) {
  return TRACK_COLOURS[v.track] ?? EXTRA[i % EXTRA.length];
}

export function startSandboxPanel(root, fetchOverview) {
  // Until a person picks a namespace, follow the action: where a second version is running.
  let picked = null;
  let failures = 0;
  const tick = async () => {
    try {
      const o = await fetchOverview();
      failures = 0;
      const pick = (ns) => {
        picked = ns;
        render(root, o, ns, pick);
      };
      render(root, o, picked ?? busiestNamespace(o), pick);
    } catch (err) {
      failures++;
      if (failures === 3) root.innerHTML = `<div class="muted">The sandbox does not answer (${escapeHtml(err.message)}). Is <code>npm start</code> still running?</div>`;
    }
  };
  void tick();
  setInterval(tick, 1000);
}

/** The namespace where a rollout is under way (a service runs two versions), production first. */
function busiestNamespace(o) {
  const busy = o.services.filter((s) => s.versions.filter((v) => v.pods > 0).length > 1).map((s) => s.namespace);
  if (busy.includes('production')) return 'production';
  return busy[0] ?? 'production';
}

function render(root, o, namespace, pick) {
  const namespaces = [...new Set(o.services.map((s) => s.namespace))].sort((a, b) => (a === 'production' ? -1 : b === 'production' ? 1 : a.localeCompare(b)));
  // A preview Service (canary, idle colour) without pods has nothing to show; one with pods is a
  // line in its service's card (`<service>-canary`, `-preview`), not a card of its own.
  const inNamespace = o.services.filter((s) => s.namespace === namespace);
  const mainOf = (p) => inNamespace.find((m) => !m.preview && p.name.startsWith(`${m.name}-`));
  const services = inNamespace
    .filter((s) => !(s.preview && (s.versions.every((v) => v.pods === 0) || mainOf(s))))
    .map((s) => ({ ...s, previews: inNamespace.filter((p) => p.preview && mainOf(p) === s && p.versions.some((v) => v.pods > 0)) }))
    .sort((a, b) => a.name.localeCompare(b.name));
  root.innerHTML = '';
  const tabs = document.createElement('div');
  tabs.className = 'legend';
  for (const ns of namespaces) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = `chip ns-tab${ns === namespace ? ' on' : ''}`;
    b.dataset.namespace = ns;
    b.textContent = ns;
    b.addEventListener('click', () => pick(ns));
    tabs.appendChild(b);
  }
  root.appendChild(tabs);
  for (const s of services) root.appendChild(serviceCard(s));
  if (!services.length) root.insertAdjacentHTML('beforeend', '<div class="muted">No services in this namespace.</div>');
}

function serviceCard(s) {
  const card = document.createElement('div');
  const versions = s.versions.filter((v) => v.pods > 0);
  card.className = `svc${versions.length > 1 ? ' active' : ''}`;
  card.dataset.service = s.name;
  const pods = versions.reduce((n, v) => n + v.pods, 0);
  card.innerHTML = `<div class="svc-head"><span class="svc-name">${escapeHtml(s.name)}</span><span class="svc-ns">${pods} pods · ${escapeHtml(s.namespace)}</span></div>`;
  // The weights its route gives each backend: exact canary shares whatever the replica counts.
  for (const r of s.routes ?? []) {
    const line = document.createElement('div');
    line.className = 'route';
    line.dataset.route = r.name;
    line.textContent = `${r.kind} ${r.name}: ${r.backends.map((b) => `${b.service} ${fmtPct(b.pct)}`).join(' · ')}`;
    card.appendChild(line);
  }

  const bar = document.createElement('div');
  bar.className = 'traffic';
  bar.title = 'share of live traffic per version';
  versions.forEach((v, i) => {
    const seg = document.createElement('span');
    seg.style.width = `${v.trafficPct}%`;
    seg.style.background = colourOf(v, i);
    bar.appendChild(seg);
  });
  card.appendChild(bar);

  const tracks = document.createElement('div');
  tracks.className = 'tracks';
  versions.forEach((v, i) => {
    const row = document.createElement('div');
    row.className = 'track';
    row.dataset.track = v.track;
    row.dataset.version = v.version;
    row.innerHTML = `<span class="swatch" style="background:${colourOf(v, i)}"></span><span>${escapeHtml(v.track)}</span><span class="ver">${escapeHtml(v.version)}</span><span class="pods">${v.readyPods}/${v.pods} ready</span><span class="share">${fmtPct(v.trafficPct)}</span>`;
    tracks.appendChild(row);
  });
  card.appendChild(tracks);
  // The Services Shipbot made beside it (the canary's, the idle colour's): where smoke checks go.
  for (const p of s.previews ?? []) {
    const line = document.createElement('div');
    line.className = 'route preview-line';
    line.dataset.preview = p.name;
    const vs = p.versions.filter((v) => v.pods > 0);
    line.textContent = `${p.name} (checks): ${vs.map((v) => `${v.version} ${v.readyPods}/${v.pods} ready`).join(' · ')}`;
    card.appendChild(line);
  }

  const charts = document.createElement('div');
  charts.className = 'charts';
  charts.appendChild(chart('error rate', versions, (p) => p.errorRate * 100, (x) => `${x.toFixed(1)}%`, 2, 1));
  charts.appendChild(chart('p99 latency', versions, (p) => p.p99Ms, (x) => `${Math.round(x)} ms`, 200));
  card.appendChild(charts);
  return card;
}

function fmtPct(x) {
  return `${Number.isInteger(x) ? x : x.toFixed(1)}%`;
}

/** A small SVG line chart, one line per version; `floor` keeps a calm baseline from looking alarming. */
function chart(label, versions, pick, fmt, floor, sloLine) {
  const wrap = document.createElement('div');
  wrap.className = 'chart';
  const lines = versions.map((v, i) => ({ v, colour: colourOf(v, i), pts: v.series.map((p) => (p.requests > 0 ? pick(p) : null)) }));
  const all = lines.flatMap((l) => l.pts.filter((x) => x !== null));
  const max = Math.max(floor, ...all) * 1.15;
  const latest = lines
    .map((l) => ({ l, x: [...l.pts].reverse().find((p) => p !== null) }))
    .filter((e) => e.x !== undefined && e.x !== null);
  const worst = latest.reduce((m, e) => Math.max(m, e.x), 0);
  const bad = sloLine !== undefined && worst > sloLine;
  const W = 100;
  const H = 40;
  const paths = lines
    .map((l) => {
      const n = l.pts.length;
      let d = '';
      l.pts.forEach((y, i) => {
        if (y === null) return;
        const px = n > 1 ? (i / (n - 1)) * W : W;
        const py = H - (y / max) * (H - 2) - 1;
        d += `${d && l.pts[i - 1] !== null ? 'L' : 'M'}${px.toFixed(1)},${py.toFixed(1)} `;
      });
      return d ? `<path d="${d}" fill="none" stroke="${l.colour}" stroke-width="2" vector-effect="non-scaling-stroke" stroke-linejoin="round"/>` : '';
    })
    .join('');
  const slo = sloLine !== undefined && sloLine < max ? `<line x1="0" x2="${W}" y1="${(H - (sloLine / max) * (H - 2) - 1).toFixed(1)}" y2="${(H - (sloLine / max) * (H - 2) - 1).toFixed(1)}" stroke="#e01e5a" stroke-dasharray="3 3" stroke-width="1" vector-effect="non-scaling-stroke" opacity=".6"/>` : '';
  wrap.innerHTML = `<div>${escapeHtml(label)}<span class="now${bad ? ' bad' : ''}">${latest.length ? fmt(worst) : '—'}</span></div><svg viewBox="0 0 ${W} ${H}" preserveAspectRatio="none" role="img" aria-label="${escapeHtml(label)}">${slo}${paths}</svg>`;
  return wrap;
}
