// Renders Slack's Block Kit and mrkdwn into DOM nodes for the local workspace page.
// Only what Shipbot sends (and a little more); anything unknown shows as a grey note instead
// of vanishing, so a block the page cannot draw is visible while demoing.

const EMOJI = {
  white_check_mark: '✅', heavy_check_mark: '✔️', x: '❌', warning: '⚠️', hourglass_flowing_sand: '⏳',
  hourglass: '⌛', rocket: '🚀', rotating_light: '🚨', leftwards_arrow_with_hook: '↩️', mag: '🔍',
  tada: '🎉', large_green_circle: '🟢', red_circle: '🔴', large_yellow_circle: '🟡', ship: '🚢',
  stopwatch: '⏱️', hand: '✋', raised_hand: '✋', no_entry: '⛔', no_entry_sign: '🚫', information_source: 'ℹ️',
  bulb: '💡', chart_with_upwards_trend: '📈', chart_with_downwards_trend: '📉', clipboard: '📋',
  lock: '🔒', unlock: '🔓', eyes: '👀', arrows_counterclockwise: '🔄', pause_button: '⏸️', memo: '📝',
  white_circle: '⚪', bar_chart: '📊', fire: '🔥', thinking_face: '🤔', wave: '👋', calendar: '📅',
  clock3: '🕒', construction: '🚧', question: '❓', exclamation: '❗', link: '🔗', page_facing_up: '📄',
  package: '📦', gear: '⚙️', stop_sign: '🛑', white_large_square: '⬜', black_square_for_stop: '⏹️',
  checkered_flag: '🏁', speech_balloon: '💬', robot_face: '🤖', traffic_light: '🚦', test_tube: '🧪',
};

/**
 * Status marks drawn by the page itself, so the live step list reads the same on machines
 * without a colour-emoji font (headless CI Chromium has none).
 */
const LOCK_BODY = '<rect x="3" y="7" width="10" height="7" rx="1.5" fill="currentColor"/>';
/** A 16×16 inline icon drawn in the text colour. */
function svg(body) {
  return `<svg class="ico" viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">${body}</svg>`;
}

const MARKS = [
  [/⏳|:hourglass_flowing_sand:/g, '<span class="mk mk-run" title="running"></span>'],
  [/❌|:x:/g, '<span class="mk mk-fail" title="failed">✕</span>'],
  [/✅|:white_check_mark:/g, `<span class="mk mk-ok" title="done">${svg('<path d="M3.5 8.5l3 3 6-7" fill="none" stroke="#fff" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round"/>')}</span>`],
  [/✓|✔️|✔/g, '<span class="mk-tick">✓</span>'],
  [/⚠️|⚠|:warning:/g, '<span class="mk-warn">⚠</span>'],
  [/↩️|↩/g, '<span class="mk-back">↩</span>'],
  [/◻️|◻/g, '<span class="mk-todo">◻</span>'],
  [/🚫|⛔/g, '<span class="mk-stop">⊘</span>'],
  [/⏹️/g, '<span class="mk-stop">■</span>'],
  [/⏸️/g, '<span class="mk-todo">❚❚</span>'],
  [/🕒/g, '<span class="mk-todo">◷</span>'],
  [/🚢/g, '<span class="mk-ship"></span>'],
  [/🔎|🔍/g, '<span class="mk-back">⌕</span>'],
  [/🧭/g, '<span class="mk-back">➤</span>'],
  [/🎉/g, '<span class="mk-tick">★</span>'],
  // Drawn: no font is needed for the marks locks, questions and approvals use.
  [/🔒/g, `<span class="mk-ico" title="locked">${svg(LOCK_BODY + '<path d="M5 7V5a3 3 0 0 1 6 0v2" fill="none" stroke="currentColor" stroke-width="1.6"/>')}</span>`],
  [/🔓/g, `<span class="mk-ico" title="unlocked">${svg(LOCK_BODY + '<path d="M5 7V5a3 3 0 0 1 5.8-1" fill="none" stroke="currentColor" stroke-width="1.6"/>')}</span>`],
  [/👁️?/g, `<span class="mk-ico" title="watching">${svg('<path d="M1.5 8s2.4-4.5 6.5-4.5S14.5 8 14.5 8 12.1 12.5 8 12.5 1.5 8 1.5 8z" fill="none" stroke="currentColor" stroke-width="1.4"/><circle cx="8" cy="8" r="2" fill="currentColor"/>')}</span>`],
  [/🤔|❓/g, '<span class="mk-todo mk-q">?</span>'],
  [/👍/g, '<span class="mk-tick">✓</span>'],
  [/🛑|✋/g, '<span class="mk-stop">■</span>'],
  [/🚀/g, '<span class="mk-back">➚</span>'],
  [/🔁/g, '<span class="mk-back">↻</span>'],
  [/📝/g, '<span class="mk-todo">✎</span>'],
];

function marks(html) {
  let out = html;
  for (const [re, rep] of MARKS) out = out.replace(re, rep);
  return out;
}

export function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

function emojify(s) {
  return s.replace(/:([a-z0-9_+-]+):/g, (m, name) => EMOJI[name] ?? m);
}

/** `<!date^SECONDS^…|fallback>` as this browser's local time with its zone ("today 14:02 CET"). */
function slackDateText(seconds, fallback) {
  if (!Number.isFinite(seconds)) return fallback ?? '';
  const d = new Date(seconds * 1000);
  const today = new Date().toDateString() === d.toDateString();
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', timeZoneName: 'short' });
  return today ? `today ${time}` : `${d.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${time}`;
}

/**
 * Slack mrkdwn → HTML: *bold*, _italic_, ~strike~, `code`, ```pre```, > quotes, <@U…> mentions,
 * <#C…|name> channels, <url|label> links, :emoji:. Input is escaped first; only our tags are added.
 */
export function mrkdwnToHtml(src, ctx) {
  const stash = [];
  const keep = (html) => `\u0001${stash.push(html) - 1}\u0001`;
  let s = escapeHtml(src ?? '');
  s = s.replace(/```([\s\S]*?)```/g, (_, code) => keep(`<pre>${code.replace(/^\n/, '')}</pre>`));
  s = s.replace(/`([^`\n]+)`/g, (_, code) => keep(`<code>${code}</code>`));
  s = s.replace(/&lt;(.+?)&gt;/g, (m, inner) => {
    const [target, label] = inner.split('|');
    if (target.startsWith('@')) {
      const id = target.slice(1);
      const u = ctx?.users?.get(id);
      return keep(`<span class="mention${id === ctx?.me ? ' me' : ''}">@${escapeHtml(u ? u.name : label ?? id)}</span>`);
    }
    if (target.startsWith('#')) {
      const c = ctx?.channels?.get(target.slice(1));
      return keep(`<span class="mention channel">#${escapeHtml(c ? c.name : label ?? target.slice(1))}</span>`);
    }
    // Slack's date token: the reader's own time and zone, as Slack shows it.
    if (target.startsWith('!date^')) return keep(escapeHtml(slackDateText(Number(target.split('^')[1]), label)));
    if (target.startsWith('!')) return keep(`<span class="mention">@${escapeHtml(label ?? target.slice(1).split('^')[0])}</span>`);
    if (/^(https?:|mailto:)/.test(target)) return keep(`<a href="${target}" target="_blank" rel="noreferrer">${label ?? target}</a>`);
    return m;
  });
  const lines = s.split('\n').map((line) => {
    let l = line;
    let quote = false;
    if (l.startsWith('&gt; ') || l === '&gt;') {
      quote = true;
      l = l.replace(/^&gt; ?/, '');
    }
    l = l.replace(/(^|[\s(\u0001])\*(?=\S)([^*\n]*?\S)\*(?=$|[\s).,;:!?\u0001-])/g, '$1<b>$2</b>');
    // Italic may hold underscores (`_set ANTHROPIC_API_KEY_`): the closing one is followed by a boundary.
    l = l.replace(/(^|[\s(\u0001])_(?=\S)([^\n]*?\S)_(?=$|[\s).,;:!?\u0001-])/g, '$1<i>$2</i>');
    l = l.replace(/(^|[\s(\u0001])~(?=\S)([^~\n]*?\S)~(?=$|[\s).,;:!?\u0001-])/g, '$1<s>$2</s>');
    l = marks(emojify(l));
    return quote ? `<blockquote>${l}</blockquote>` : l;
  });
  let html = lines.join('<br>').replace(/<\/blockquote><br><blockquote>/g, '<br>');
  html = html.replace(/<\/blockquote><br>/g, '</blockquote>');
  return html.replace(/\u0001(\d+)\u0001/g, (_, i) => stash[Number(i)]);
}

/** A text object (plain_text or mrkdwn) as HTML. */
export function textHtml(t, ctx) {
  if (!t) return '';
  if (typeof t === 'string') return mrkdwnToHtml(t, ctx);
  if (t.type === 'mrkdwn') return mrkdwnToHtml(t.text, ctx);
  return marks(emojify(escapeHtml(t.text ?? '')));
}

function el(tag, cls, html) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (html !== undefined) e.innerHTML = html;
  return e;
}

/**
 * Renders `blocks` for a surface. ctx: { users, channels, me, surface: 'message'|'modal',
 * onAction(element, blockId), onChange(element, blockId, value), errors: {block_id: text} }.
 */
export function renderBlocks(blocks, ctx) {
  const root = el('div', 'blocks');
  for (const b of blocks ?? []) root.appendChild(renderBlock(b, ctx));
  return root;
}

function renderBlock(b, ctx) {
  switch (b.type) {
    case 'section': {
      const node = el('div', 'b-section');
      const body = el('div', 'b-section-body');
      if (b.text) body.appendChild(el('div', 'b-text', textHtml(b.text, ctx)));
      if (Array.isArray(b.fields) && b.fields.length) {
        const grid = el('div', 'b-fields');
        for (const f of b.fields) grid.appendChild(el('div', 'b-field', textHtml(f, ctx)));
        body.appendChild(grid);
      }
      node.appendChild(body);
      if (b.accessory) node.appendChild(renderElement(b.accessory, b.block_id, ctx, true));
      return node;
    }
    case 'context': {
      const node = el('div', 'b-context');
      for (const e of b.elements ?? []) {
        if (e.type === 'image') {
          const img = el('img', 'b-context-img');
          img.src = e.image_url;
          img.alt = e.alt_text ?? '';
          node.appendChild(img);
        } else node.appendChild(el('span', '', textHtml(e, ctx)));
      }
      return node;
    }
    case 'divider':
      return el('hr', 'b-divider');
    case 'header':
      return el('div', 'b-header', textHtml(b.text, ctx));
    case 'image': {
      const node = el('figure', 'b-image');
      if (b.title) node.appendChild(el('figcaption', '', textHtml(b.title, ctx)));
      const img = el('img');
      img.src = b.image_url;
      img.alt = b.alt_text ?? '';
      node.appendChild(img);
      return node;
    }
    case 'actions': {
      const node = el('div', 'b-actions');
      for (const e of b.elements ?? []) node.appendChild(renderElement(e, b.block_id, ctx, false));
      return node;
    }
    case 'input':
      return renderInput(b, ctx);
    case 'rich_text':
      return el('div', 'b-text', mrkdwnToHtml(flattenRichText(b), ctx));
    default:
      return el('div', 'b-unknown', `[${escapeHtml(b.type)} block: not drawn by the local page]`);
  }
}

function flattenRichText(b) {
  const out = [];
  const walk = (n) => {
    if (!n) return;
    if (typeof n.text === 'string') out.push(n.text);
    if (n.type === 'user') out.push(`<@${n.user_id}>`);
    for (const c of n.elements ?? []) walk(c);
  };
  walk(b);
  return out.join('');
}

function optionLabel(o, ctx) {
  return textHtml(o.text, ctx);
}

function allOptions(e) {
  return [...(e.options ?? []), ...(e.option_groups ?? []).flatMap((g) => g.options ?? [])];
}

/** Interactive elements in messages (buttons, selects, overflow) and section accessories. */
function renderElement(e, blockId, ctx, accessory) {
  switch (e.type) {
    case 'button': {
      const btn = el('button', `btn${e.style ? ` btn-${e.style}` : ''}`, textHtml(e.text, ctx));
      btn.type = 'button';
      btn.dataset.actionId = e.action_id ?? '';
      if (e.url) {
        btn.addEventListener('click', () => window.open(e.url, '_blank', 'noreferrer'));
        return btn;
      }
      btn.addEventListener('click', () => ctx.onAction?.(e, blockId, btn));
      return btn;
    }
    case 'image': {
      const img = el('img', 'b-accessory-img');
      img.src = e.image_url;
      img.alt = e.alt_text ?? '';
      return img;
    }
    case 'static_select':
    case 'radio_buttons':
    case 'checkboxes':
    case 'overflow':
    case 'multi_static_select':
    case 'plain_text_input':
    case 'number_input':
      if (ctx.surface === 'modal') return renderControl(e, blockId, ctx);
      return el('span', 'b-unknown', `[${escapeHtml(e.type)}]`);
    default:
      return el('span', 'b-unknown', `[${escapeHtml(e.type)}${accessory ? ' accessory' : ''}]`);
  }
}

function renderInput(b, ctx) {
  const node = el('div', 'b-input');
  node.dataset.blockId = b.block_id ?? '';
  const label = el('label', 'b-input-label', textHtml(b.label, ctx));
  if (b.optional) label.appendChild(el('span', 'optional', ' (optional)'));
  node.appendChild(label);
  const control = renderControl(b.element ?? {}, b.block_id, ctx, !!b.dispatch_action);
  node.appendChild(control);
  if (b.hint) node.appendChild(el('div', 'b-hint', textHtml(b.hint, ctx)));
  const err = ctx.errors?.[b.block_id];
  if (err) {
    node.classList.add('has-error');
    node.appendChild(el('div', 'b-error', `⚠️ ${escapeHtml(err)}`));
  }
  return node;
}

/**
 * A form control carrying data-* attributes so the modal can read its value back:
 * data-block-id, data-action-id, data-kind (text | number | select | multi | radio | checkboxes).
 */
function renderControl(e, blockId, ctx, dispatch) {
  const wrap = el('div', 'b-control');
  wrap.dataset.blockId = blockId ?? '';
  wrap.dataset.actionId = e.action_id ?? '';
  const changed = (value) => {
    if (dispatch || e.dispatch_action_config || ctx.surface === 'modal-accessory') ctx.onChange?.(e, blockId, value);
  };
  switch (e.type) {
    case 'plain_text_input': {
      wrap.dataset.kind = 'text';
      const input = e.multiline ? el('textarea') : el('input');
      if (!e.multiline) input.type = 'text';
      input.value = e.initial_value ?? '';
      if (e.placeholder) input.placeholder = e.placeholder.text ?? '';
      if (e.max_length) input.maxLength = e.max_length;
      input.addEventListener('change', () => changed(input.value));
      wrap.appendChild(input);
      break;
    }
    case 'number_input': {
      wrap.dataset.kind = 'number';
      const input = el('input');
      input.type = 'number';
      input.step = e.is_decimal_allowed ? 'any' : '1';
      if (e.min_value !== undefined) input.min = e.min_value;
      if (e.max_value !== undefined) input.max = e.max_value;
      input.value = e.initial_value ?? '';
      if (e.placeholder) input.placeholder = e.placeholder.text ?? '';
      input.addEventListener('change', () => changed(input.value));
      wrap.appendChild(input);
      break;
    }
    case 'static_select':
    case 'multi_static_select': {
      const multi = e.type === 'multi_static_select';
      wrap.dataset.kind = multi ? 'multi' : 'select';
      const select = el('select');
      select.multiple = multi;
      if (!multi) {
        const none = el('option', '', escapeHtml(e.placeholder?.text ?? 'Select an option'));
        none.value = '';
        select.appendChild(none);
      }
      const initial = new Set([e.initial_option?.value, ...(e.initial_options ?? []).map((o) => o.value)].filter(Boolean));
      const addOption = (parent, o) => {
        const opt = el('option', '', optionLabel(o, ctx));
        opt.value = o.value;
        opt.selected = initial.has(o.value);
        parent.appendChild(opt);
      };
      for (const o of e.options ?? []) addOption(select, o);
      for (const g of e.option_groups ?? []) {
        const group = el('optgroup');
        group.label = g.label?.text ?? '';
        for (const o of g.options ?? []) addOption(group, o);
        select.appendChild(group);
      }
      select.addEventListener('change', () => changed(multi ? [...select.selectedOptions].map((o) => o.value) : select.value));
      wrap.appendChild(select);
      break;
    }
    case 'radio_buttons':
    case 'checkboxes': {
      const radio = e.type === 'radio_buttons';
      wrap.dataset.kind = radio ? 'radio' : 'checkboxes';
      const name = `r-${Math.random().toString(36).slice(2)}`;
      const initial = new Set([e.initial_option?.value, ...(e.initial_options ?? []).map((o) => o.value)].filter(Boolean));
      for (const o of allOptions(e)) {
        const row = el('label', 'b-choice');
        const input = el('input');
        input.type = radio ? 'radio' : 'checkbox';
        input.name = name;
        input.value = o.value;
        input.checked = initial.has(o.value);
        input.addEventListener('change', () => {
          const picked = [...wrap.querySelectorAll('input:checked')].map((i) => i.value);
          changed(radio ? picked[0] ?? '' : picked);
        });
        row.appendChild(input);
        const text = el('span', 'b-choice-text', optionLabel(o, ctx));
        if (o.description) text.appendChild(el('span', 'b-choice-desc', textHtml(o.description, ctx)));
        row.appendChild(text);
        wrap.appendChild(row);
      }
      break;
    }
    case 'overflow': {
      wrap.dataset.kind = 'select';
      const select = el('select', 'overflow');
      const none = el('option', '', '⋯');
      none.value = '';
      select.appendChild(none);
      for (const o of e.options ?? []) {
        const opt = el('option', '', optionLabel(o, ctx));
        opt.value = o.value;
        select.appendChild(opt);
      }
      select.addEventListener('change', () => changed(select.value));
      wrap.appendChild(select);
      break;
    }
    default:
      wrap.appendChild(el('span', 'b-unknown', `[${escapeHtml(e.type)} input: not drawn by the local page]`));
  }
  return wrap;
}

/** Reads every control of a rendered modal back: { key: value }, keyed by block_id (else action_id). */
export function readValues(root) {
  const values = {};
  for (const c of root.querySelectorAll('.b-control[data-kind]')) {
    const key = c.dataset.blockId || c.dataset.actionId;
    if (!key) continue;
    values[key] = controlValue(c);
  }
  return values;
}

export function controlValue(c) {
  switch (c.dataset.kind) {
    case 'text':
    case 'number': {
      const v = c.querySelector('input, textarea').value;
      return v === '' ? null : v;
    }
    case 'select': {
      const v = c.querySelector('select').value;
      return v === '' ? null : v;
    }
    case 'multi':
      return [...c.querySelector('select').selectedOptions].map((o) => o.value);
    case 'radio':
      return c.querySelector('input:checked')?.value ?? null;
    case 'checkboxes':
      return [...c.querySelectorAll('input:checked')].map((i) => i.value);
    default:
      return null;
  }
}
