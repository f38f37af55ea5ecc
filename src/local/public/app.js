// The local workspace page: channels, a thread pane, modals and a user switcher over the Slack
// double. Everything a person does goes to /api/* and from there to Shipbot as the signed
// requests Slack would send; everything Shipbot does comes back over /api/events (SSE).
import { escapeHtml, mrkdwnToHtml, readValues, renderBlocks } from './blocks.js';
import { startSandboxPanel } from './sandbox.js';

const $ = (sel) => document.querySelector(sel);

/** Shipbot's mark, drawn inline so it needs no emoji font. */
export const SHIP_SVG =
  '<svg viewBox="0 0 24 24" width="62%" height="62%" aria-hidden="true"><path fill="#fff" d="M11 3h2v3h4l1 5H6l1-5h4zM3.5 13h17l-2.6 5.2c-.3.5-.8.8-1.4.8H7.5c-.6 0-1.1-.3-1.4-.8z"/><path fill="#fff" opacity=".6" d="M2 21c1.5 0 1.5-1 3-1s1.5 1 3 1 1.5-1 3-1 1.5 1 3 1 1.5-1 3-1 1.5 1 3 1v1.4c-1.5 0-1.5-1-3-1s-1.5 1-3 1-1.5-1-3-1-1.5 1-3 1-1.5-1-3-1-1.5 1-3 1z"/></svg>';

const state = {
  boot: null,
  me: '',
  channel: '',
  thread: null, // ts of the open thread's parent
  messages: new Map(), // `${channel}:${ts}` → message
  views: new Map(), // id → view dto
  viewErrors: {},
  lastSendAt: 0,
  /** Top-level messages of this channel that arrived since I last typed (app.js onChange). */
  begunSinceSend: new Set(),
  stream: null,
};

const ctx = () => ({
  users: new Map(state.boot.users.map((u) => [u.id, u])),
  channels: new Map(state.boot.channels.map((c) => [c.id, c])),
  me: state.me,
});

async function api(path, body, retried = false) {
  const headers = { 'content-type': 'application/json', 'x-shipbot-token': state.boot?.token ?? '' };
  const res = await fetch(path, body === undefined ? {} : { method: 'POST', headers, body: JSON.stringify(body) });
  const data = await res.json().catch(() => ({ ok: false, error: `HTTP ${res.status}` }));
  // Shipbot restarted: its page token changed. Fetch the new one and try once more.
  if (res.status === 403 && data.error === 'bad_token' && !retried && state.boot) {
    state.boot.token = (await api('/api/bootstrap')).token;
    return api(path, body, true);
  }
  if (!res.ok) throw new Error(data.detail ?? data.error ?? `HTTP ${res.status}`);
  return data;
}

function toast(text, kind = 'info') {
  const t = document.createElement('div');
  t.className = `toast toast-${kind}`;
  t.textContent = text;
  $('#toasts').appendChild(t);
  setTimeout(() => t.remove(), 6000);
}

// ---------------------------------------------------------------------------------------------
// Start

async function boot() {
  state.boot = await api('/api/bootstrap');
  const params = new URLSearchParams(location.search);
  const wanted = params.get('as') ?? localStorage.getItem('shipbot.as');
  state.me = state.boot.people.some((p) => p.id === wanted) ? wanted : state.boot.people[0].id;
  state.channel = state.boot.channels[0]?.id ?? '';
  $('#team-name').textContent = state.boot.team;
  $('#speed').textContent = state.boot.speed > 1 ? `demo clock ${state.boot.speed}× faster` : 'real-time clock';
  renderPeople();
  renderChannels();
  await switchUser(state.me);
  if (state.boot.sandbox) startSandboxPanel($('#sandbox-body'), () => api('/api/sandbox/overview'));
  else document.body.classList.add('no-sandbox');
  for (const icon of document.querySelectorAll('.app-icon, .modal-app-icon')) icon.innerHTML = SHIP_SVG;
  wireComposer($('#composer'), () => ({ channel: state.channel }));
  wireComposer($('#thread-composer'), () => ({ channel: state.channel, threadTs: state.thread }));
  for (const chip of document.querySelectorAll('[data-example]')) {
    chip.addEventListener('click', () => {
      const box = $('#composer textarea');
      box.value = chip.dataset.example;
      box.focus();
    });
  }
  $('#thread-close').addEventListener('click', () => openThread(null));
  wireNarrowLayout();
}

/** On a phone: the channel list is a drawer and the cluster panel an overlay, each behind a header button. */
function wireNarrowLayout() {
  const toggle = (cls, button, on) => {
    const open = on ?? !document.body.classList.contains(cls);
    document.body.classList.toggle(cls, open);
    button.setAttribute('aria-expanded', String(open));
  };
  $('#menu').addEventListener('click', () => toggle('drawer-open', $('#menu')));
  $('#cluster-toggle').addEventListener('click', () => toggle('cluster-open', $('#cluster-toggle')));
  $('#cluster-close').addEventListener('click', () => toggle('cluster-open', $('#cluster-toggle'), false));
  // Choosing a channel closes the drawer, as a phone app's does.
  $('#channels').addEventListener('click', () => toggle('drawer-open', $('#menu'), false));
}

async function switchUser(id) {
  state.me = id;
  localStorage.setItem('shipbot.as', id);
  $('#who').value = id;
  const person = state.boot.people.find((p) => p.id === id);
  $('#me-role').textContent = person?.role ?? '';
  $('#me-avatar').replaceWith(avatar(id, 'me-avatar'));
  const snap = await api(`/api/state?user=${encodeURIComponent(id)}`);
  state.messages.clear();
  for (const m of snap.messages) state.messages.set(key(m), m);
  state.views.clear();
  for (const v of snap.views) state.views.set(v.id, v);
  connect();
  render();
}

function connect() {
  state.stream?.close();
  const es = new EventSource(`/api/events?user=${encodeURIComponent(state.me)}`);
  state.stream = es;
  es.addEventListener('change', (ev) => onChange(JSON.parse(ev.data)));
  es.addEventListener('hello', () => {
    // Back after a drop (or a restart of `npm start`): catch up on what happened meanwhile.
    if (document.body.classList.contains('offline')) void resync();
    document.body.classList.remove('offline');
  });
  es.onerror = () => document.body.classList.add('offline');
}

async function resync() {
  const snap = await api(`/api/state?user=${encodeURIComponent(state.me)}`);
  state.messages.clear();
  for (const m of snap.messages) state.messages.set(key(m), m);
  state.views.clear();
  for (const v of snap.views) state.views.set(v.id, v);
  render();
}

function key(m) {
  return `${m.channel}:${m.ts}`;
}

function onChange(e) {
  if (e.message) {
    const m = e.message;
    const known = state.messages.has(key(m));
    if (e.kind === 'message-deleted') state.messages.delete(key(m));
    else state.messages.set(key(m), m);
    if (e.kind === 'message-updated') flash.add(key(m));
    // Shipbot answered what I just typed: open that thread, as a person would. Only a thread that
    // began after I typed (my message, or Shipbot's answer to a slash command), and once: a reply
    // in another run's thread (its end, its report) must not pull me away from the answer I wait for.
    const justSent = Date.now() - state.lastSendAt < 20_000;
    if (!known && justSent && !m.threadTs && m.channel === state.channel) state.begunSinceSend.add(m.ts);
    if (!known && m.bot && justSent && state.begunSinceSend.has(m.threadTs) && m.channel === state.channel && state.thread !== m.threadTs) {
      state.thread = m.threadTs;
      state.lastSendAt = 0;
    }
    if (!known && m.channel !== state.channel && !m.ephemeral) unread.add(m.channel);
    if (!known && m.threadTs && m.threadTs === state.thread) followThread = true;
  }
  if (e.view) {
    if (e.kind === 'view-closed') state.views.delete(e.view.id);
    else state.views.set(e.view.id, e.view);
    if (e.kind !== 'view-updated') state.viewErrors = {};
  }
  scheduleRender(e.view ? 'all' : 'messages');
}

const flash = new Set();
/** A new reply arrived in the open thread: scroll to it, as Slack does. */
let followThread = false;
const unread = new Set();
let pending = null;
function scheduleRender(what) {
  if (pending === 'all') return;
  const first = pending === null;
  pending = what === 'all' ? 'all' : pending ?? what;
  if (first) {
    requestAnimationFrame(() => {
      const p = pending;
      pending = null;
      if (p === 'all') render();
      else renderMessages();
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Rendering

function render() {
  renderChannels();
  renderMessages();
  renderModal();
}

function renderPeople() {
  const who = $('#who');
  who.innerHTML = '';
  for (const p of state.boot.people) {
    const o = document.createElement('option');
    o.value = p.id;
    o.textContent = `${p.realName} — ${p.role}`;
    who.appendChild(o);
  }
  who.addEventListener('change', () => switchUser(who.value));
  // `shipbot start --as <user>` on a real cluster: one person, no picker.
  who.disabled = state.boot.people.length < 2;
}

function renderChannels() {
  const nav = $('#channels');
  nav.innerHTML = '';
  for (const c of state.boot.channels) {
    const a = document.createElement('button');
    a.type = 'button';
    a.className = `channel-link${c.id === state.channel ? ' active' : ''}${unread.has(c.id) ? ' unread' : ''}`;
    a.dataset.channel = c.name;
    a.innerHTML = `<span class="hash">#</span><span class="name">${escapeHtml(c.name)}</span>`;
    if (c.stakeholder) a.title = 'Stakeholder channel: Shipbot broadcasts each deploy summary here';
    a.addEventListener('click', () => {
      state.channel = c.id;
      state.thread = null;
      unread.delete(c.id);
      render();
    });
    nav.appendChild(a);
  }
  const c = state.boot.channels.find((x) => x.id === state.channel);
  $('#channel-name').textContent = c ? c.name : '';
  $('#channel-topic').textContent = c?.stakeholder
    ? 'Where Shipbot tells everyone how deploys went.'
    : 'Type a deploy request: Shipbot answers in a thread.';
  $('#composer textarea').placeholder = `Message #${c?.name ?? ''}`;
}

function inChannel() {
  return [...state.messages.values()].filter((m) => m.channel === state.channel).sort((a, b) => Number(a.ts) - Number(b.ts));
}

function renderMessages() {
  const all = inChannel();
  const list = $('#messages');
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.innerHTML = '';
  const top = all.filter((m) => !m.threadTs || m.broadcast);
  if (!top.length) list.appendChild(emptyChannel());
  for (const m of top) {
    const replies = all.filter((r) => r.threadTs === m.ts && r.ts !== m.ts);
    list.appendChild(renderMessage(m, replies));
  }
  if (atBottom) list.scrollTop = list.scrollHeight;

  const pane = $('#thread');
  // The grid has a thread column only while a thread is open: no empty column without one.
  document.body.classList.toggle('thread-open', Boolean(state.thread));
  if (!state.thread) {
    pane.classList.add('hidden');
  } else {
    pane.classList.remove('hidden');
    const c = state.boot.channels.find((x) => x.id === state.channel);
    $('#thread-sub').textContent = c ? `#${c.name}` : '';
    const body = $('#thread-messages');
    const threadAtBottom = body.scrollHeight - body.scrollTop - body.clientHeight < 40;
    body.innerHTML = '';
    const parent = all.find((m) => m.ts === state.thread);
    const replies = all.filter((m) => m.threadTs === state.thread && m.ts !== state.thread);
    if (parent) body.appendChild(renderMessage(parent, [], true));
    const sep = document.createElement('div');
    sep.className = 'thread-sep';
    sep.textContent = `${replies.length} ${replies.length === 1 ? 'reply' : 'replies'}`;
    body.appendChild(sep);
    for (const r of replies) body.appendChild(renderMessage(r, [], true));
    if (threadAtBottom || followThread) body.scrollTop = body.scrollHeight;
  }
  followThread = false;
  flash.clear();
}

function emptyChannel() {
  const d = document.createElement('div');
  d.className = 'empty';
  d.innerHTML = `<div class="empty-icon avatar bot">${SHIP_SVG}</div><div>No messages yet. Try <code>deploy checkout v1.2.4-errors canary</code>.</div>`;
  return d;
}

function avatar(userId, cls = 'avatar') {
  const u = state.boot.users.find((x) => x.id === userId);
  const a = document.createElement('div');
  a.className = `${cls} ${u?.isBot ? 'bot' : ''}`;
  a.id = cls === 'me-avatar' ? 'me-avatar' : '';
  if (u?.isBot) a.innerHTML = SHIP_SVG;
  else a.textContent = (u?.realName ?? u?.name ?? '?').slice(0, 1).toUpperCase();
  a.style.setProperty('--hue', String(hue(userId)));
  return a;
}

function hue(id) {
  let h = 0;
  for (const ch of id) h = (h * 31 + ch.charCodeAt(0)) % 360;
  return h;
}

function time(ts) {
  const d = new Date(Number(ts) * 1000);
  return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function renderMessage(m, replies, inThread = false) {
  const u = state.boot.users.find((x) => x.id === m.user);
  const row = document.createElement('div');
  row.className = `msg${m.ephemeral ? ' ephemeral' : ''}${flash.has(key(m)) ? ' flash' : ''}`;
  row.dataset.ts = m.ts;
  row.dataset.edits = String(m.edits);
  row.appendChild(avatar(m.user ?? ''));
  const body = document.createElement('div');
  body.className = 'msg-body';
  const head = document.createElement('div');
  head.className = 'msg-head';
  head.innerHTML = `<span class="author">${escapeHtml(u?.realName ?? u?.name ?? m.user ?? 'someone')}</span>${m.bot ? '<span class="app-badge">APP</span>' : ''}<span class="time">${time(m.ts)}</span>${m.edits ? '<span class="edited">(edited)</span>' : ''}`;
  body.appendChild(head);
  if (m.ephemeral) {
    const note = document.createElement('div');
    note.className = 'only-you';
    note.textContent = '👁 Only visible to you';
    body.appendChild(note);
  }
  const c = { ...ctx(), surface: 'message', onAction: (e, blockId, btn) => pressButton(m, e, btn) };
  if (Array.isArray(m.blocks) && m.blocks.length) body.appendChild(renderBlocks(m.blocks, c));
  else {
    const t = document.createElement('div');
    t.className = 'b-text';
    t.innerHTML = mrkdwnToHtml(m.text, c);
    body.appendChild(t);
  }
  for (const f of m.files ?? []) body.appendChild(fileCard(f));
  if (m.broadcast && m.threadTs && !inThread) {
    const b = document.createElement('div');
    b.className = 'broadcast';
    b.textContent = 'replied to a thread';
    body.insertBefore(b, head.nextSibling);
  }
  if (replies.length && !inThread) {
    const link = document.createElement('button');
    link.type = 'button';
    link.className = 'replies';
    const people = [...new Set(replies.map((r) => r.user))].slice(0, 3);
    for (const p of people) link.appendChild(avatar(p ?? '', 'mini-avatar'));
    link.appendChild(document.createTextNode(`${replies.length} ${replies.length === 1 ? 'reply' : 'replies'}`));
    const last = document.createElement('span');
    last.className = 'last-reply';
    last.textContent = `Last reply ${time(replies[replies.length - 1].ts)}`;
    link.appendChild(last);
    link.addEventListener('click', () => openThread(m.ts));
    body.appendChild(link);
  }
  row.appendChild(body);
  return row;
}

/**
 * A shared file (Shipbot uploads its Markdown report): a card that opens to show it as a page
 * (tables as tables). Raw HTML in the text is shown as text and only http(s) links are links:
 * the report quotes what people and Claude wrote.
 */
function fileCard(f) {
  const card = document.createElement('details');
  card.className = 'file';
  const summary = document.createElement('summary');
  summary.innerHTML = `<span class="file-icon">MD</span><span class="file-meta"><span class="file-title">${escapeHtml(f.title)}</span><span class="file-name">${escapeHtml(f.name)} · ${Math.max(1, Math.round(f.content.length / 1024))} KB · click to read</span></span>`;
  card.appendChild(summary);
  const page = document.createElement('div');
  page.className = 'file-content';
  page.textContent = f.content;
  if (/\.md$/.test(f.name)) void renderMarkdown(f.content).then((html) => (page.innerHTML = html)).catch(() => undefined);
  card.appendChild(page);
  card.addEventListener('toggle', () => openFiles[card.open ? 'add' : 'delete'](f.name));
  card.open = openFiles.has(f.name);
  return card;
}
const openFiles = new Set();

let markedReady;
async function renderMarkdown(text) {
  markedReady ??= import('/static/marked.js').then(({ Marked }) =>
    new Marked({
      renderer: {
        html: (token) => escapeHtml(token.text ?? token.raw ?? ''),
        link({ href, tokens }) {
          const label = this.parser.parseInline(tokens);
          return /^https?:\/\//i.test(href) ? `<a href="${escapeHtml(href)}" target="_blank" rel="noopener noreferrer">${label}</a>` : label;
        },
        image: ({ text }) => escapeHtml(text ?? ''),
      },
    }),
  );
  return (await markedReady).parse(text);
}

function openThread(ts) {
  state.thread = ts;
  renderMessages();
  if (ts) $('#thread-composer textarea').focus();
}

// ---------------------------------------------------------------------------------------------
// Actions

async function pressButton(m, e, btn) {
  // A double click opens the confirm once; the second click neither opens another nor dismisses it.
  if (state.confirming) return;
  if (e.confirm) {
    state.confirming = true;
    const ok = await confirmDialog(e.confirm).finally(() => (state.confirming = false));
    if (!ok) return;
  }
  btn.classList.add('busy');
  btn.disabled = true;
  try {
    const r = await api('/api/click', { user: state.me, messageTs: m.ts, actionId: e.action_id, value: e.value });
    if (!r.ok) toast(`Shipbot answered HTTP ${r.status} to that click.`, 'error');
  } catch (err) {
    toast(`That click did not reach Shipbot: ${err.message}`, 'error');
  } finally {
    btn.classList.remove('busy');
    btn.disabled = false;
  }
}

/** Slack's confirmation dialog for a button with `confirm`. Resolves true when confirmed. */
function confirmDialog(conf) {
  return new Promise((resolve) => {
    const root = $('#confirm-root');
    const c = ctx();
    const danger = conf.style === 'danger';
    root.innerHTML = `
      <div class="overlay"><div class="dialog confirm" role="alertdialog" aria-modal="true">
        <div class="dialog-title">${escapeHtml(conf.title?.text ?? 'Are you sure?')}</div>
        <div class="dialog-body">${mrkdwnToHtml(conf.text?.text ?? '', c)}</div>
        <div class="dialog-foot">
          <button type="button" class="btn" data-deny>${escapeHtml(conf.deny?.text ?? 'Cancel')}</button>
          <button type="button" class="btn ${danger ? 'btn-danger' : 'btn-primary'}" data-confirm>${escapeHtml(conf.confirm?.text ?? 'Yes')}</button>
        </div>
      </div></div>`;
    const done = (v) => {
      root.innerHTML = '';
      resolve(v);
    };
    root.querySelector('[data-deny]').addEventListener('click', () => done(false));
    root.querySelector('[data-confirm]').addEventListener('click', () => done(true));
    // A click outside dismisses it, but not the second half of the double click that opened it.
    const openedAt = performance.now();
    root.querySelector('.overlay').addEventListener('click', (ev) => ev.target === ev.currentTarget && performance.now() - openedAt > 500 && done(false));
  });
}

function wireComposer(form, where) {
  const box = form.querySelector('textarea');
  const send = async () => {
    const text = box.value.trim();
    if (!text) return;
    box.value = '';
    state.lastSendAt = Date.now();
    state.begunSinceSend.clear();
    form.classList.add('sending');
    try {
      const r = await api('/api/send', { user: state.me, text, ...where() });
      if (!r.ok) toast(`Shipbot answered HTTP ${r.status ?? '?'}; see the terminal for its log.`, 'error');
    } catch (err) {
      box.value = text;
      toast(`Not sent: ${err.message}`, 'error');
    } finally {
      form.classList.remove('sending');
    }
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void send();
  });
  box.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey) {
      ev.preventDefault();
      void send();
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Modals

let shownView = null; // { id, hash-ish } of the modal on screen, to keep typed values across re-renders

function renderModal() {
  const root = $('#modal-root');
  const open = [...state.views.values()].filter((v) => v.open !== false);
  const v = open[open.length - 1];
  if (!v) {
    root.innerHTML = '';
    shownView = null;
    return;
  }
  const stamp = JSON.stringify(v.view) + JSON.stringify(state.viewErrors);
  if (shownView && shownView.id === v.id && shownView.stamp === stamp) return;
  // Keep what the person typed where the app did not change the field.
  const kept = shownView && shownView.id === v.id ? unchangedValues(readValues(root), shownView.view, v.view) : {};
  shownView = { id: v.id, stamp, view: v.view };
  const view = v.view;
  root.innerHTML = '';
  const overlay = document.createElement('div');
  overlay.className = 'overlay';
  const dialog = document.createElement('form');
  dialog.className = 'dialog modal';
  dialog.setAttribute('role', 'dialog');
  dialog.setAttribute('aria-modal', 'true');
  const c = ctx();
  dialog.innerHTML = `<div class="dialog-head"><div class="modal-app">${SHIP_SVG}</div><div class="dialog-title">${escapeHtml(view.title?.text ?? '')}</div><button type="button" class="x" aria-label="Close">✕</button></div>`;
  const body = document.createElement('div');
  body.className = 'dialog-body';
  body.appendChild(
    renderBlocks(view.blocks ?? [], {
      ...c,
      surface: 'modal',
      errors: state.viewErrors,
      onChange: (e, blockId, value) => api('/api/view/change', { user: state.me, viewId: v.id, actionId: e.action_id, value }).catch((err) => toast(err.message, 'error')),
      onAction: (e) => api('/api/view/change', { user: state.me, viewId: v.id, actionId: e.action_id, value: e.value ?? '' }).catch((err) => toast(err.message, 'error')),
    }),
  );
  dialog.appendChild(body);
  const foot = document.createElement('div');
  foot.className = 'dialog-foot';
  foot.innerHTML = `<button type="button" class="btn" data-close>${escapeHtml(view.close?.text ?? 'Cancel')}</button>${view.submit ? `<button type="submit" class="btn btn-primary" data-submit>${escapeHtml(view.submit.text)}</button>` : ''}`;
  dialog.appendChild(foot);
  overlay.appendChild(dialog);
  root.appendChild(overlay);
  restoreValues(body, kept);

  const close = () => api('/api/view/close', { viewId: v.id }).catch((err) => toast(err.message, 'error'));
  dialog.querySelector('.x').addEventListener('click', close);
  foot.querySelector('[data-close]').addEventListener('click', close);
  dialog.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const submit = foot.querySelector('[data-submit]');
    submit.disabled = true;
    submit.classList.add('busy');
    try {
      const r = await api('/api/view/submit', { user: state.me, viewId: v.id, values: readValues(body) });
      if (r.errors) {
        state.viewErrors = r.errors;
        shownView.stamp = '';
        renderModal();
      } else if (!r.ok) toast(`Shipbot answered HTTP ${r.status} to the form.`, 'error');
    } catch (err) {
      toast(`The form did not reach Shipbot: ${err.message}`, 'error');
    } finally {
      submit.disabled = false;
      submit.classList.remove('busy');
    }
  });
}

/** Typed values whose field the app left as it was (same initial value in the old and new view). */
function unchangedValues(typed, oldView, newView) {
  const before = initialValues(oldView);
  const after = initialValues(newView);
  return Object.fromEntries(Object.entries(typed).filter(([k]) => k in after && before[k] === after[k]));
}

function initialValues(view) {
  const out = {};
  for (const b of view?.blocks ?? []) {
    const e = b.element ?? (b.type === 'section' ? b.accessory : undefined);
    if (!e || !e.action_id) continue;
    out[b.block_id || e.action_id] = JSON.stringify([e.initial_value, e.initial_option?.value, (e.initial_options ?? []).map((o) => o.value)]);
  }
  return out;
}

function restoreValues(body, kept) {
  for (const c of body.querySelectorAll('.b-control[data-kind]')) {
    const k = c.dataset.blockId || c.dataset.actionId;
    if (!(k in kept) || kept[k] === null) continue;
    const v = kept[k];
    const input = c.querySelector('input[type=text], input[type=number], textarea, select');
    if (c.dataset.kind === 'text' || c.dataset.kind === 'number' || c.dataset.kind === 'select') {
      if (input) input.value = v;
    } else if (c.dataset.kind === 'radio' || c.dataset.kind === 'checkboxes') {
      const set = new Set(Array.isArray(v) ? v : [v]);
      for (const i of c.querySelectorAll('input')) i.checked = set.has(i.value);
    }
  }
}

boot().catch((err) => {
  document.body.innerHTML = `<pre class="fatal">The local workspace could not start: ${escapeHtml(err.message)}\nIs \`npm start\` still running?</pre>`;
});
