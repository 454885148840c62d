"""HTML report: one self-contained file, the findings folded by cause, the checks x cells matrix
(rows with a problem first) with filters and details.

No external URL at all (a Content-Security-Policy forbids any fetch); the data travels as
JSON inside a `<script type="application/json">` with `<`, `>` and `&` escaped, and the page
builds every element with `textContent`, never `innerHTML`, so no value can become markup.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from readiness import __version__
from readiness.judge.budgets import document_lane, emulated
from readiness.judge.findings import EFFECT_VALUES
from readiness.judge.merge import Matrix, Row
from readiness.judge.verdict import Verdict
from readiness.model import envtext, jsontext
from readiness.model.document import OUTCOME_VALUES, CheckRecord, Measurement, Outcome
from readiness.model.jsontext import number, string, text
from readiness.render.common import Context, Output, coverage_lines, divergent_checks, rows_in_order, scope_lines

_CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
        "img-src data:; base-uri 'none'; form-action 'none'")


def script_json(data: Any) -> str:
    """JSON safe inside a <script> element: no `<`, `>` or `&` can end it or open a comment."""
    return script_safe(jsontext.dumps(data))


def script_safe(written: str) -> str:
    """JSON text made safe inside a <script> element (see `script_json`)."""
    for char, escaped in _SCRIPT_ESCAPES:
        if char in written:  # a quick look first: most of these are in no report, and the text is large
            written = written.replace(char, escaped)
    return written


_SCRIPT_ESCAPES = (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))


def render(matrix: Matrix, verdict: Verdict, context: Context) -> List[Output]:
    page = "".join([_PAGE_HEAD, *page_parts(matrix, verdict, context), _PAGE_TAIL])
    start, end = len(_PAGE_HEAD), len(page) - len(_PAGE_TAIL)
    if any(page.find(char, start, end) >= 0 for char, _ in _SCRIPT_ESCAPES):  # looked for in place, not copied
        page = "".join([_PAGE_HEAD, script_safe(page[start:end]), _PAGE_TAIL])  # escapes of one character each
    return [Output("report.html", page)]


def page_parts(matrix: Matrix, verdict: Verdict, context: Context) -> List[str]:
    """The page's data as JSON text, in parts: the head, then every check row with its result in
    each cell, written part by part (model/jsontext.py); the evidence and samples as the matrix
    file wrote them."""
    divergent = set(divergent_checks(verdict))
    cells = {cell: (string(cell) + ":", document_lane(doc)) for cell, doc in matrix.documents.items()}
    severities, memo = verdict.severities, matrix.memo
    envtext.fill(memo, matrix.documents, matrix.raw)
    rows = [_row(row, row.id in divergent, severities.get(row.id, row.severity).value, cells, memo)
            for row in rows_in_order(matrix)]
    head = {
        "generated_at": context.generated_at, "tool_version": __version__, "run_id": matrix.run_id,
        "state": verdict.state.value, "policy": verdict.policy_label,
        "scope": scope_lines(verdict) + coverage_lines(matrix),
        "target": verdict.target.title(),
    }
    return jsontext.object_parts(head, ("causes", jsontext.array_parts(_causes(verdict))),
                                 ("waivers", [jsontext.dumps([w.to_dict() for w in verdict.waivers])]),
                                 ("cells", [jsontext.dumps(matrix.cells)]), ("checks", jsontext.array_parts(rows)))


def _causes(verdict: Verdict) -> List[str]:
    """Each cause's text: a cause per measurement, at most."""
    written = []
    for cause in verdict.causes:
        effect, _, said, _, _, why = cause
        try:  # the texts strings, as they are typed; most say no why
            written.append(f'{{"effect":{_EFFECT_TEXT[effect]},"text":{string(said)},'
                           f'"why":{_NO_WHY if why == "" else string(why)}}}')
        except TypeError:
            written.append(f'{{"effect":{_EFFECT_TEXT[effect]},"text":{text(said)},"why":{text(why)}}}')
    return written


_NO_WHY = string("")


def _row(row: Row, divergent: bool, severity: str, cells: Dict[str, Tuple[str, str]], memo: jsontext.Memo) -> str:
    """A check's row; `cells` gives each cell's key, already written, and its lane. Its result in each cell
    is written here, one per check and cell: what the memo holds looked up, a call only for what it lacks."""
    results = []
    texts = memo.texts
    for cell, record in row.results.items():  # the rows were built from the cells' documents
        key, lane = cells[cell]
        duration, message, longrepr, attempts = record.duration_s, record.message, record.longrepr, record.attempts
        tail = texts.get(id(record)) if lane == "native" else None  # evidence and measurements (model/readtext.py)
        results.append(
            f'{key}{{"outcome":{_OUTCOME_TEXT[record.outcome]},'
            f'"message":{"null" if message is None else text(message)},'
            f'"longrepr":{"null" if longrepr is None else text(longrepr)},'
            f'"duration_s":{texts.get(id(duration)) or number(duration)},'
            f'"attempts":{int.__repr__(attempts) if type(attempts) is int else number(attempts)},'
            f'{tail or _tail(record, lane, memo)}}}')
    return (f'{{"id":{text(row.id)},"title":{text(row.title)},"category":{text(row.category)},'
            f'"severity":{text(severity)},"worst":{_OUTCOME_TEXT.get(row.worst, "null")},'
            f'"divergent":{"true" if divergent else "false"},"results":{{{",".join(results)}}}}}')


def _tail(record: CheckRecord, lane: str, memo: jsontext.Memo) -> str:
    """A check's evidence and measurements, where the memo holds no text of them."""
    evidence, measurements = record.evidence, record.measurements
    if lane != "native":
        shown = _emulated(measurements, lane, memo)
    else:
        shown = memo.texts.get(id(measurements)) or envtext.measurements(measurements, memo)
    return f'"evidence":{memo.texts.get(id(evidence)) or memo.value(evidence)},"measurements":{shown}'


def _emulated(measurements: Dict[str, Measurement], lane: str, memo: jsontext.Memo) -> str:
    """Measurements as shown: each from an emulated lane says so."""
    label = ',"lane":' + string(emulated(lane)) + "}"
    items = sorted(measurements.items()) if len(measurements) > 1 else measurements.items()
    return "{" + ",".join(string(k) + ":" + envtext.measurement(m, memo)[:-1] + label for k, m in items) + "}"


_OUTCOME_TEXT: Dict[Optional[Outcome], str] = {outcome: string(value) for outcome, value in OUTCOME_VALUES.items()}
_EFFECT_TEXT = {effect: string(value) for effect, value in EFFECT_VALUES.items()}


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="@CSP@">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>readiness report</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d232a; background: #f6f7f9; }
header { padding: 16px 24px; color: #fff; }
header.s-go { background: #1f7a3d; } header.s-waivers { background: #8a6d00; }
header.s-nogo { background: #b3261e; } header.s-incomplete { background: #6b4fa0; }
header h1 { margin: 0 0 4px; font-size: 22px; } header p { margin: 2px 0; opacity: .92; }
header p.target { font-size: 16px; font-weight: 600; opacity: 1; }
li .why { color: #3c4450; font-size: 13px; }
main { padding: 16px 24px; }
section { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: 12px 16px; margin-bottom: 16px; }
h2 { font-size: 16px; margin: 0 0 8px; }
ul { margin: 0; padding-left: 20px; }
li.e-no-go { color: #b3261e; } li.e-incomplete { color: #6b4fa0; } li.e-inconclusive { color: #8a6d00; }
.filters { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; margin-bottom: 8px; }
.filters label { font-weight: 600; }
.matrix-wrap { overflow: auto; max-height: 70vh; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #e3e6ea; padding: 3px 6px; text-align: left; white-space: nowrap; }
thead th { position: sticky; top: 0; background: #eef1f4; z-index: 1; }
th.cell { writing-mode: vertical-rl; transform: rotate(180deg); font-weight: 500; max-height: 280px; }
td.o { text-align: center; cursor: pointer; min-width: 22px; font-weight: 700; }
td.o:hover { outline: 2px solid #1d232a; }
.o-passed { background: #d5f0dd; color: #1f7a3d; } .o-failed, .o-error { background: #f9d3d0; color: #b3261e; }
.o-flaky, .o-xpassed { background: #fbe9b7; color: #8a6d00; }
.o-skipped, .o-deselected { background: #fff3cd; color: #8a6d00; }
.o-xfailed, .o-not_applicable { background: #eceff3; color: #6b7380; } .o-missing { background: #fff; color: #b3261e; }
.o-not_run { background: #ebe4f5; color: #6b4fa0; }
tr.divergent td:first-child { border-left: 4px solid #e8710a; }
tr.divergent td.id::after { content: " divergent"; color: #e8710a; font-size: 11px; font-weight: 600; }
#detail pre { white-space: pre-wrap; background: #f3f4f6; padding: 8px; border-radius: 4px;
  max-height: 320px; overflow: auto; }
.muted { color: #6b7380; }
</style>
</head>
<body>
<header id="banner"><h1 id="state"></h1><p id="target" class="target"></p><p id="policy"></p>
<p id="generated" class="muted-light"></p></header>
<main>
<section><h2>Why</h2><ul id="reasons"></ul></section>
<section><h2>Scope and evidence coverage</h2><ul id="scope"></ul></section>
<section>
<h2>Checks x cells</h2>
<div class="filters">
<label for="f-category">Category</label><select id="f-category"></select>
<label for="f-severity">Severity</label><select id="f-severity"></select>
<label for="f-outcome">Worst outcome</label><select id="f-outcome"></select>
<span id="count" class="muted"></span>
</div>
<div class="matrix-wrap"><table id="matrix"><thead><tr id="head"></tr></thead><tbody id="rows"></tbody></table></div>
</section>
<section id="detail"><h2>Details</h2>
<p id="detail-hint" class="muted">Click a cell of the matrix to see its message and evidence.</p>
<dl id="detail-body"></dl></section>
<section><h2>All findings</h2><ul id="findings"></ul></section>
</main>
<script type="application/json" id="readiness-data">@DATA@</script>
<script>
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("readiness-data").textContent);
  const SYMBOL = {error: "E", failed: "F", flaky: "R", xpassed: "X", not_run: "n", skipped: "s",
                  deselected: "d", xfailed: "x", passed: "\\u2713", not_applicable: "\\u2013"};
  const STATE_CLASS = {"GO": "s-go", "GO WITH WAIVERS": "s-waivers", "NO-GO": "s-nogo", "INCOMPLETE": "s-incomplete"};
  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }
  function byId(id) { return document.getElementById(id); }

  byId("banner").className = STATE_CLASS[data.state] || "";
  byId("state").textContent = "Verdict: " + data.state;
  byId("target").textContent = data.target;
  document.title = "readiness report: " + data.target;
  byId("policy").textContent = "Run " + data.run_id + " \\u00b7 " + data.policy;
  byId("generated").textContent = "Generated " + data.generated_at + " by readiness " + data.tool_version;
  function causeItem(cause) {
    const li = el("li", cause.effect.toUpperCase() + ": " + cause.text, "e-" + cause.effect);
    if (cause.why) li.appendChild(el("div", cause.why, "why"));
    return li;
  }
  const deciding = data.causes.filter(c => ["no-go", "incomplete", "waived", "inconclusive"].includes(c.effect));
  if (!deciding.length) byId("reasons").appendChild(el("li", "No blocking finding, no missing evidence."));
  deciding.forEach(c => byId("reasons").appendChild(causeItem(c)));
  data.scope.forEach(line => byId("scope").appendChild(el("li", line)));
  data.causes.forEach(c => byId("findings").appendChild(causeItem(c)));

  const head = byId("head");
  ["Check", "Category", "Severity"].forEach(name => head.appendChild(el("th", name)));
  data.cells.forEach(cell => head.appendChild(el("th", cell, "cell")));

  const tbody = byId("rows");
  const rows = data.checks.map(check => {
    const tr = el("tr", null, check.divergent ? "divergent" : "");
    tr.appendChild(el("td", check.id, "id"));
    tr.appendChild(el("td", check.category));
    tr.appendChild(el("td", check.severity));
    data.cells.forEach(cell => {
      const result = check.results[cell];
      const outcome = result ? result.outcome : "missing";
      const td = el("td", result ? SYMBOL[outcome] : "?", "o o-" + outcome);
      td.title = cell + ": " + (result ? outcome : "no result");
      td.addEventListener("click", () => showDetail(check, cell, result));
      tr.appendChild(td);
    });
    tbody.appendChild(tr);
    return {tr: tr, check: check};
  });

  function options(select, values) {
    select.appendChild(el("option", "all"));
    values.forEach(v => select.appendChild(el("option", v)));
    select.addEventListener("change", applyFilters);
  }
  const uniq = key => Array.from(new Set(data.checks.map(c => c[key]).filter(v => v !== null))).sort();
  options(byId("f-category"), uniq("category"));
  options(byId("f-severity"), uniq("severity"));
  options(byId("f-outcome"), uniq("worst"));

  function applyFilters() {
    const want = {category: byId("f-category").value, severity: byId("f-severity").value,
                  worst: byId("f-outcome").value};
    let shown = 0;
    rows.forEach(row => {
      const ok = Object.keys(want).every(key => want[key] === "all" || row.check[key] === want[key]);
      row.tr.hidden = !ok;
      if (ok) shown += 1;
    });
    byId("count").textContent = shown + " of " + rows.length + " checks shown";
  }

  function showDetail(check, cell, result) {
    const body = byId("detail-body");
    body.replaceChildren();
    byId("detail-hint").hidden = true;
    function item(name, value, pre) {
      body.appendChild(el("dt", name));
      const dd = el("dd");
      dd.appendChild(el(pre ? "pre" : "span", value));
      body.appendChild(dd);
    }
    item("Check", check.id + (check.title && check.title !== check.id ? " \\u2014 " + check.title : ""));
    item("Cell", cell);
    if (!result) { item("Outcome", "no result in this cell"); return; }
    item("Outcome", result.outcome + " (" + result.attempts + " attempt(s), " + result.duration_s + " s)");
    item("Message", result.message || "(none)", true);
    if (result.longrepr) item("Details", result.longrepr, true);
    if (Object.keys(result.evidence).length) item("Evidence", JSON.stringify(result.evidence, null, 2), true);
    if (Object.keys(result.measurements).length) {
      item("Measurements", JSON.stringify(result.measurements, null, 2), true);
    }
  }
  applyFilters();
})();
</script>
</body>
</html>
"""
_PAGE_HEAD, _PAGE_TAIL = _TEMPLATE.replace("@CSP@", _CSP).split("@DATA@")
