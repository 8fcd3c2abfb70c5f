// Tiny DOM helpers: h() builds elements, table() builds a sortable table.
// Elements the tests read carry data-check="<key>" (and data-value with the raw number).
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export function section(id, title, ...children) {
  return h('section', { id, class: 'card', 'data-section': id }, h('h2', null, title), ...children);
}

/** A value cell: shown text, raw value and the key the tests check it under. */
export function value(text, raw, check, cls) {
  return h('span', { class: cls, 'data-check': check, 'data-value': raw == null ? null : raw }, text);
}

export function note(text) {
  return h('p', { class: 'note' }, text);
}

const ASC = 'ascending';
const DESC = 'descending';

/**
 * columns: [{label, key, num?: boolean, sort?: row => value, cmp?: (a, b) => number, cell: row => Node|string, title?}]
 * Clicking a header sorts by that column; numbers sort descending first. Empty values go last.
 * opts: {name, class, sortKey, sortDir, rowClass?: row => string, filter?: row => boolean}; the
 * returned element's refresh() redraws the rows (after the filter changed).
 */
export function table(columns, rows, opts = {}) {
  const tbody = h('tbody');
  const heads = [];
  let state = { key: opts.sortKey, dir: opts.sortDir || DESC };
  const render = () => {
    let sorted = opts.filter ? rows.filter(opts.filter) : rows;
    const col = columns.find((c) => c.key === state.key);
    if (col && col.sort) {
      const sign = state.dir === ASC ? 1 : -1;
      sorted = [...sorted].sort((a, b) => {
        const x = col.sort(a);
        const y = col.sort(b);
        if (x == null && y == null) return 0;
        if (x == null) return 1;
        if (y == null) return -1;
        return (col.cmp ? col.cmp(x, y) : x < y ? -1 : x > y ? 1 : 0) * sign;
      });
    }
    tbody.replaceChildren(...sorted.map((r) => h('tr', { class: opts.rowClass ? opts.rowClass(r) : null },
      columns.map((c) => h(c.num ? 'td' : 'th', { class: c.num ? 'num' : null, scope: c.num ? null : 'row' }, c.cell(r)))))); // prettier-ignore
    heads.forEach((th, i) => {
      const c = columns[i];
      if (c.sort) th.setAttribute('aria-sort', c.key === state.key ? state.dir : 'none');
    });
  };
  const thead = h('thead', null, h('tr', null, columns.map((c) => {
    const th = h('th', { class: c.num ? 'num' : null, scope: 'col', title: c.title }, c.sort
      ? h('button', { type: 'button', onclick: () => {
          state = state.key === c.key ? { key: c.key, dir: state.dir === DESC ? ASC : DESC }
            : { key: c.key, dir: c.num ? DESC : ASC };
          render();
        } }, c.label)
      : c.label);
    heads.push(th);
    return th;
  })));
  render();
  const wrap = h('div', { class: 'table-wrap' }, h('table', { class: opts.class, 'data-table': opts.name }, thead, tbody));
  wrap.refresh = render; // re-applies opts.filter
  return wrap;
}
