"""The interactive page of a `Trace`: one self-contained HTML file (CSS and JavaScript inline, nothing fetched).

The page shows one step at a time, like the seed tutorial's spreadsheet:
buttons and the arrow keys step through the forward and backward pass; each
step shows its matrices with their names and shapes; pointing at (or clicking)
a cell of a computed matrix paints it yellow and the cells it was computed
from orange, and writes the cell's formula with its numbers beside it.

Which cells a result comes from is a *rule* attached to the step by
`tinygrad_edu.viz.trace` (one per computed matrix):

- ``elementwise``: the same position in every source, broadcasting as NumPy does;
- ``matmul``: row ``i`` of the left operand and column ``j`` of the right one
  (either may be stored transposed, so the backward rules ``G @ B.T`` and
  ``A.T @ G`` are matmuls too), plus an optional added term (a bias);
- ``reduce``: the slice that was summed (or maxed, averaged) away;
- ``spread``: the one cell of a reduced gradient that a position received;
- ``grad_elementwise``: the cells of dL/d output that flowed into a position
  (several where the input was broadcast) and the input's own value;
- ``reshape``, ``permute``, ``all`` (every cell: an op without a finer rule).

The browser computes the highlighted cells from the rule and the shapes, so
the file stays small: it holds each matrix once.
"""
from __future__ import annotations

import html
import json
import math
from typing import Any

import numpy as np

__all__ = ["matrix_json", "render_page"]

# A matrix with more rows or columns than this shows its first and last ones and elides the middle.
MAX_SHOWN = 40

_CSS = """
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222;
       background: #fafafa; overflow-x: hidden; }
#page { max-width: 1260px; margin: 0 auto; padding: 10px 14px; }
h1 { font-size: 18px; margin: 4px 0 8px; }
#bar { display: flex; flex-wrap: wrap; align-items: center; gap: 8px; position: sticky; top: 0;
       background: #fafafa; padding: 6px 0; z-index: 2; border-bottom: 1px solid #ddd; }
#bar button { font-size: 14px; padding: 4px 12px; cursor: pointer; }
#steps { max-width: 520px; font-size: 13px; }
#counter { color: #555; font-size: 13px; }
.help { color: #777; font-size: 12px; }
#head { margin: 10px 0 6px; }
#head .phase { display: inline-block; padding: 1px 8px; border-radius: 9px; font-size: 12px;
               font-weight: bold; margin-right: 6px; }
.phase.data { background: #dbe7f7; } .phase.forward { background: #d7f0cf; }
.phase.backward { background: #fbe0cc; } .phase.update { background: #e6dbf3; }
#title { font-size: 17px; font-weight: bold; }
#operation { font-family: Consolas, Menlo, monospace; background: #f0f0f0; padding: 3px 6px; border-radius: 3px;
             display: inline-block; margin-top: 4px; max-width: 100%; overflow-wrap: anywhere; }
#note { color: #444; margin-top: 4px; font-size: 13px; }
#convention { margin-top: 4px; font-size: 13px; padding: 3px 6px; border-left: 4px solid #999;
              background: #fff; }
#convention.seed { border-color: #d98a00; } #convention.gradient { border-color: #1f4e99; }
#work { display: flex; gap: 12px; align-items: flex-start; }
#mats { flex: 1 1 auto; min-width: 0; display: flex; flex-wrap: wrap; gap: 10px; align-items: flex-start; }
#formula { flex: 0 0 300px; position: sticky; top: 60px; background: #fff; border: 1px solid #ccc;
           border-radius: 4px; padding: 8px; font-family: Consolas, Menlo, monospace; font-size: 12.5px;
           white-space: pre-wrap; overflow-wrap: anywhere; min-height: 80px; max-height: 70vh; overflow-y: auto; }
#formula .hint { font-family: inherit; color: #777; }
.mat { background: #fff; border: 1px solid #ccc; border-radius: 4px; padding: 4px 6px; max-width: 100%; }
.mat.in { border-top: 3px solid #7aa6d6; } .mat.out { border-top: 3px solid #2e8b57; }
.mat.grad { border-top: 3px solid #d98a00; }
.mat .label { font-weight: bold; font-size: 13px; }
.mat .shape { color: #666; font-size: 12px; margin-left: 4px; }
.mat .role { color: #888; font-size: 11px; }
.scroll { overflow: auto; max-width: 100%; max-height: 360px; }
table.m { border-collapse: collapse; font-family: Consolas, Menlo, monospace; font-size: 12px;
          border-left: 2px solid #555; border-right: 2px solid #555; }
table.m td { padding: 1px 5px; text-align: right; border: 1px solid #eee; white-space: nowrap; }
table.m td.el { color: #999; text-align: center; }
table.m tr.blk td { border-top: 2px solid #888; }
.mat.out table.m td.c { cursor: pointer; }
table.m td.c:hover { outline: 1px solid #888; }
td.hl-out { background: #ffeb3b !important; font-weight: bold; }
td.hl-src { background: #ffb347 !important; }
.summary { font-size: 12px; color: #555; max-width: 360px; }
"""

_JS = r"""
(function () {
  var T = JSON.parse(document.getElementById('trace-data').textContent);
  var current = 0, pinned = null;
  var sel = document.getElementById('steps');
  T.steps.forEach(function (s, i) {
    var o = document.createElement('option');
    o.value = i; o.textContent = 'Step ' + s.number + ' [' + s.phase + '] ' + s.name;
    sel.appendChild(o);
  });
  function num(v) { return typeof v === 'string' ? Number(v) : v; }
  function fmt(v) {
    v = num(v);
    if (!isFinite(v)) return String(v);
    if (v === 0) return '0';
    var a = Math.abs(v);
    if (a >= 1e-3 && a < 1e5) return String(Number(v.toFixed(4)));
    return v.toExponential(3);
  }
  function cell(v) {  // fixed decimals, so that a matrix's columns line up
    v = num(v);
    if (!isFinite(v)) return String(v);
    if (Number.isInteger(v) && Math.abs(v) < 1e6) return String(v);
    return Math.abs(v) < 1e5 ? v.toFixed(4) : v.toExponential(2);
  }
  function term(v) { var s = fmt(v); return s.charAt(0) === '-' ? '(' + s + ')' : s; }
  function unravel(f, shape) {
    var idx = new Array(shape.length);
    for (var d = shape.length - 1; d >= 0; d--) { idx[d] = f % shape[d]; f = Math.floor(f / shape[d]); }
    return idx;
  }
  function ravel(idx, shape) {
    var f = 0;
    for (var d = 0; d < shape.length; d++) f = f * shape[d] + idx[d];
    return f;
  }
  function bcast(o, shape) {  // index into an operand of `shape` broadcast against output index o
    var off = o.length - shape.length, idx = [];
    for (var d = 0; d < shape.length; d++) idx.push(shape[d] === 1 ? 0 : o[d + off]);
    return ravel(idx, shape);
  }
  function idxText(f, shape) {
    if (shape.length === 0) return '';
    return '[' + unravel(f, shape).join(',') + ']';
  }
  function val(m, f) { return num(m.data[f]); }
  function ref(m, f) { return m.label + idxText(f, m.shape); }

  // ---- rules: which cells a computed cell came from, and its formula with numbers
  function sources(step, mi, f) {
    var mats = step.mats, out = mats[mi], r = out.rule, cells = [], text = '';
    var head = ref(out, f) + ' = ';
    var result = fmt(val(out, f));
    if (r.kind === 'elementwise') {
      var o = unravel(f, out.shape), vals = [], names = [];
      r.src.forEach(function (si) {
        var m = mats[si], g = bcast(o, m.shape);
        cells.push([si, g]); vals.push(term(val(m, g))); names.push(ref(m, g));
      });
      var sym = r.expr, num_ = r.expr;
      for (var k = 0; k < vals.length; k++) {
        sym = sym.split('{' + k + '}').join(names[k]);
        num_ = num_.split('{' + k + '}').join(vals[k]);
      }
      text = head + sym + '\n  = ' + num_ + '\n  = ' + result;
    } else if (r.kind === 'matmul') {
      var b = Math.floor(f / (r.M * r.N)), rest = f % (r.M * r.N), i = Math.floor(rest / r.N), j = rest % r.N;
      var A = mats[r.a], B = mats[r.b], ba = r.ba > 1 ? b : 0, bb = r.bb > 1 ? b : 0, terms = [], total = 0;
      var nameA = A.label + (r.ta ? '\u1d40' : ''), nameB = B.label + (r.tb ? '\u1d40' : '');
      for (var k2 = 0; k2 < r.K; k2++) {
        var fa = r.ta ? ba * r.K * r.M + k2 * r.M + i : ba * r.M * r.K + i * r.K + k2;
        var fb = r.tb ? bb * r.N * r.K + j * r.K + k2 : bb * r.K * r.N + k2 * r.N + j;
        cells.push([r.a, fa]); cells.push([r.b, fb]);
        terms.push(term(val(A, fa)) + '\u00b7' + term(val(B, fb)));
      }
      var shown = terms.length > 8 ? terms.slice(0, 4).concat(['\u2026 (' + (terms.length - 6) + ' more)'],
                                                               terms.slice(-2)) : terms;
      text = head + '\u03a3_k ' + nameA + '[' + (r.nb > 1 ? b + ',' : '') + i + ',k] \u00b7 ' + nameB + '[' +
             (r.nb > 1 ? b + ',' : '') + 'k,' + j + ']\n  (row ' + i + ' of ' + nameA + ' times column ' + j +
             ' of ' + nameB + ')\n  = ' + shown.join(' + ');
      if (r.c !== undefined && r.c !== null) {
        var C = mats[r.c], fc = bcast(unravel(f, out.shape), C.shape);
        cells.push([r.c, fc]);
        text += '\n  + ' + ref(C, fc) + ' = ' + fmt(val(C, fc));
      }
      text += '\n  = ' + result;
    } else if (r.kind === 'reduce') {
      var X = mats[r.src[0]], o2 = unravel(f, out.shape), axes = r.axes, full = [], oi = 0, vs = [];
      for (var d = 0; d < X.shape.length; d++) {
        if (axes.indexOf(d) >= 0) { full.push(null); if (r.keepdim) oi++; } else full.push(o2[oi++]);
      }
      var idx = full.slice();
      (function walk(d) {
        if (d === X.shape.length) { var g = ravel(idx, X.shape); cells.push([r.src[0], g]); vs.push(term(val(X, g))); return; }
        if (full[d] !== null) { idx[d] = full[d]; walk(d + 1); return; }
        for (var t = 0; t < X.shape[d]; t++) { idx[d] = t; walk(d + 1); }
      })(0);
      var list = vs.length > 10 ? vs.slice(0, 6).concat(['\u2026 (' + (vs.length - 8) + ' more)'], vs.slice(-2)) : vs;
      var sliceText = full.map(function (x) { return x === null ? ':' : x; }).join(',');
      var what = r.fn + ' over axis ' + axes.join(',') + ' of ' + X.label + '[' + sliceText + ']';
      var joined = r.fn === 'sum' ? list.join(' + ') : r.fn === 'mean' ? '(' + list.join(' + ') + ') / ' + vs.length
                   : r.fn + '(' + list.join(', ') + ')';
      text = head + what + '\n  = ' + joined + '\n  = ' + result;
    } else if (r.kind === 'spread') {
      var G = mats[r.src[0]], p = unravel(f, out.shape), gi = [];
      for (var d2 = 0; d2 < p.length; d2++) {
        if (r.axes.indexOf(d2) >= 0) { if (r.keepdim) gi.push(0); } else gi.push(p[d2]);
      }
      var gf = ravel(gi, G.shape);
      cells.push([r.src[0], gf]);
      text = head + ref(G, gf) + (r.scale !== undefined ? ' \u00d7 ' + r.scale : '') +
             '\n  (every element of the reduced slice gets the same gradient)\n  = ' + result;
    } else if (r.kind === 'grad_elementwise') {
      var Gm = mats[r.grad], pos = unravel(f, out.shape), outShape = Gm.shape, off = outShape.length - pos.length;
      var fixed = [], gcells = [];
      for (var d3 = 0; d3 < outShape.length; d3++) {
        var sd = d3 - off;
        fixed.push(sd < 0 || (out.shape[sd] === 1 && outShape[d3] > 1) ? null : pos[sd]);
      }
      var id3 = fixed.slice();
      (function walk2(d) {
        if (d === outShape.length) { gcells.push(ravel(id3, outShape)); return; }
        if (fixed[d] !== null) { id3[d] = fixed[d]; walk2(d + 1); return; }
        for (var t = 0; t < outShape[d]; t++) { id3[d] = t; walk2(d + 1); }
      })(0);
      gcells.forEach(function (g) { cells.push([r.grad, g]); });
      (r.src || []).forEach(function (si) {
        var m = mats[si];
        gcells.slice(0, 1).forEach(function (g) { cells.push([si, bcast(unravel(g, outShape), m.shape)]); });
      });
      if (gcells.length === 1) {
        var gv = val(Gm, gcells[0]), mine = val(out, f);
        text = head + ref(Gm, gcells[0]) + ' \u00d7 \u2202' + r.outname + '/\u2202' + r.inname +
               '\n  = ' + fmt(gv) + ' \u00d7 ' + (gv !== 0 ? fmt(mine / gv) : '(local slope)') + '\n  = ' + result;
        if (r.slope) text += '\n  local slope ' + r.slope;
      } else {
        text = head + '\u03a3 over the ' + gcells.length + ' positions ' + r.inname +
               ' was broadcast to:\n  ' + Gm.label + ' \u00d7 \u2202' + r.outname + '/\u2202' + r.inname +
               '\n  (broadcasting in the forward pass is a sum in the backward pass)\n  = ' + result;
      }
    } else if (r.kind === 'reshape') {
      cells.push([r.src[0], f]);
      text = head + ref(mats[r.src[0]], f) + '\n  (same element, new shape)\n  = ' + result;
    } else if (r.kind === 'permute') {
      var Xp = mats[r.src[0]], op = unravel(f, out.shape), ip = new Array(op.length);
      for (var d4 = 0; d4 < op.length; d4++) ip[r.perm[d4]] = op[d4];
      var pf = ravel(ip, Xp.shape);
      cells.push([r.src[0], pf]);
      text = head + ref(Xp, pf) + '\n  (axes reordered: ' + r.perm.join(',') + ')\n  = ' + result;
    } else {
      r.src.forEach(function (si) { for (var q = 0; q < mats[si].data.length; q++) cells.push([si, q]); });
      text = head + (r.expr || 'computed from all of its inputs') + '\n  = ' + result;
    }
    return {cells: cells, text: text};
  }

  function clear() {
    document.querySelectorAll('td.hl-out, td.hl-src').forEach(function (td) { td.classList.remove('hl-out', 'hl-src'); });
  }
  function show(mi, f) {
    clear();
    var step = T.steps[current], res = sources(step, mi, f);
    var own = document.getElementById('c' + mi + '_' + f);
    if (own) own.classList.add('hl-out');
    res.cells.forEach(function (c) {
      var td = document.getElementById('c' + c[0] + '_' + c[1]);
      if (td && !td.classList.contains('hl-out')) td.classList.add('hl-src');
    });
    document.getElementById('formula').textContent = res.text;
  }
  function hint() {
    var step = T.steps[current];
    var any = step.mats.some(function (m) { return m.rule; });
    document.getElementById('formula').innerHTML = '<span class="hint">' + (any ?
      'Point at (or click) a cell of a green-topped result matrix: it turns yellow, the cells it was computed ' +
      'from turn orange, and its formula with the numbers appears here.' :
      'This step only shows values; nothing is computed in it.') + '</span>';
  }

  function cellsRange(n) {  // the rows (or columns) shown: all, or the first and last MAX/2 with a gap
    var max = T.max_shown, out = [];
    if (n <= max) { for (var i = 0; i < n; i++) out.push(i); return out; }
    var h = Math.floor(max / 2);
    for (var a = 0; a < h; a++) out.push(a);
    out.push(-1);
    for (var b = n - h; b < n; b++) out.push(b);
    return out;
  }
  function matrixHtml(m, mi) {
    var role = m.role === 'in' && m.label.indexOf('dL/d') === 0 ? 'grad' : m.role;
    var box = '<div class="mat ' + role + '" id="m' + mi + '"><div><span class="label">' + esc(m.label) +
              '</span><span class="shape">(' + (m.shape.length ? m.shape.join('\u00d7') : 'scalar') + ')</span> ' +
              '<span class="role">' + ({in: 'input', out: 'computed', grad: 'gradient'}[role] || '') + '</span></div>';
    if (m.summary) return box + '<div class="summary">' + esc(m.summary) + '</div></div>';
    var rows = m.shape.length >= 2 ? m.data.length / m.shape[m.shape.length - 1] : 1;
    var cols = m.shape.length >= 1 ? m.shape[m.shape.length - 1] : 1;
    var rr = cellsRange(rows), cc = cellsRange(cols), t = '<div class="scroll"><table class="m">';
    var block = m.shape.length >= 3 ? m.shape[m.shape.length - 2] : 0;  // rows per matrix of a batch
    rr.forEach(function (r) {
      t += (block && r > 0 && r % block === 0) ? '<tr class="blk">' : '<tr>';
      cc.forEach(function (c) {
        if (r < 0 || c < 0) { t += '<td class="el">\u22ef</td>'; return; }
        var f = r * cols + c;
        t += '<td class="c" id="c' + mi + '_' + f + '" data-m="' + mi + '" data-f="' + f + '">' + cell(m.data[f]) + '</td>';
      });
      t += '</tr>';
    });
    t += '</table></div>';
    if (block) t += '<div class="role">shown as ' + (rows / block) + ' stacked ' + block + '\u00d7' + cols +
                    ' matrices (one per leading index)</div>';
    if (rows > T.max_shown || cols > T.max_shown) t += '<div class="role">middle rows/columns elided (\u22ef)</div>';
    return box + t + '</div>';
  }
  function esc(s) { var d = document.createElement('div'); d.textContent = s; return d.innerHTML; }

  function go(i) {
    current = Math.max(0, Math.min(T.steps.length - 1, i));
    pinned = null;
    var s = T.steps[current];
    sel.value = current;
    document.getElementById('counter').textContent = (current + 1) + ' / ' + T.steps.length;
    document.getElementById('phase').textContent = s.phase;
    document.getElementById('phase').className = 'phase ' + s.phase;
    document.getElementById('title').textContent = 'Step ' + s.number + ': ' + s.name;
    document.getElementById('operation').textContent = s.operation;
    document.getElementById('note').textContent = s.note || '';
    var conv = document.getElementById('convention');
    conv.textContent = s.convention || '';
    conv.className = s.convention_kind || '';
    conv.style.display = s.convention ? '' : 'none';
    var order = [];
    s.mats.forEach(function (m, mi) { if (m.role === 'in') order.push(mi); });
    s.mats.forEach(function (m, mi) { if (m.role === 'out') order.push(mi); });
    s.mats.forEach(function (m, mi) { if (m.role === 'grad') order.push(mi); });
    document.getElementById('mats').innerHTML = order.map(function (mi) { return matrixHtml(s.mats[mi], mi); }).join('');
    document.getElementById('prev').disabled = current === 0;
    document.getElementById('next').disabled = current === T.steps.length - 1;
    hint();
  }
  var mats = document.getElementById('mats');
  function target(e) {
    var td = e.target.closest ? e.target.closest('td.c') : null;
    if (!td) return null;
    var mi = Number(td.getAttribute('data-m'));
    return T.steps[current].mats[mi].rule ? [mi, Number(td.getAttribute('data-f'))] : null;
  }
  mats.addEventListener('mouseover', function (e) { if (pinned) return; var t = target(e); if (t) show(t[0], t[1]); });
  mats.addEventListener('click', function (e) {
    var t = target(e);
    if (!t) { pinned = null; clear(); hint(); return; }
    pinned = t; show(t[0], t[1]);
  });
  document.getElementById('prev').addEventListener('click', function () { go(current - 1); });
  document.getElementById('next').addEventListener('click', function () { go(current + 1); });
  sel.addEventListener('change', function () { go(Number(sel.value)); });
  document.addEventListener('keydown', function (e) {
    if (e.target === sel) return;
    if (e.key === 'ArrowRight' || e.key === 'ArrowDown') { go(current + 1); e.preventDefault(); }
    if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') { go(current - 1); e.preventDefault(); }
  });
  go(0);
})();
"""

_BODY = """<div id="page">
<h1>{title}</h1>
<div id="bar"><button id="prev" type="button">&#9664; previous</button>
<button id="next" type="button">next &#9654;</button>
<select id="steps" aria-label="step"></select><span id="counter"></span>
<span class="help">arrow keys step; point at a green-topped matrix's cell to see where it came from</span></div>
<div id="head"><span id="phase" class="phase"></span><span id="title"></span><br>
<code id="operation"></code><div id="note"></div><div id="convention"></div></div>
<div id="work"><div id="mats"></div><div id="formula"></div></div>
</div>"""


def _number(value: float) -> Any:
    """A JSON-safe number, 6 significant digits (non-finite values as strings JavaScript's Number() reads)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return float(f"{value:.6g}")


def matrix_json(label: str, matrix: Any, role: str, rule: Any = None, summary: str = "") -> dict:
    """One matrix of a step, as the page reads it."""
    entry: dict = {"label": label, "role": role}
    if summary:
        entry.update(shape=list(getattr(matrix, "shape", ())), data=[], summary=summary)
    else:
        array = np.asarray(matrix)
        if array.dtype == bool:
            array = array.astype(np.int64)
        entry["shape"] = list(array.shape)
        flat = array.reshape(-1)
        if np.issubdtype(array.dtype, np.integer):
            entry["data"] = [int(v) for v in flat]
        else:
            entry["data"] = [_number(v) for v in flat.astype(np.float64).tolist()]
    if rule is not None:
        entry["rule"] = rule
    return entry


def render_page(title: str, steps: list) -> str:
    """The whole page: ``steps`` are dicts (number, phase, name, operation, note, convention, mats)."""
    payload = json.dumps({"title": title, "steps": steps, "max_shown": MAX_SHOWN}, separators=(",", ":"))
    payload = payload.replace("</", "<\\/")  # never close the <script> early
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
            + _BODY.format(title=html.escape(title))
            + f'<script type="application/json" id="trace-data">{payload}</script>'
            + f"<script>{_JS}</script></body></html>\n")
