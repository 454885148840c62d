"""Hostile documents: check ids, titles, messages, tracebacks and evidence carrying HTML, script,
Markdown, terminal escapes and XML-invalid characters render as inert text in every format; a
cell id that is a path never names a file outside the run folder."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Dict, List, Set, Tuple

import pytest
from envdocs import check, env, write
from markdown_it import MarkdownIt

from readiness import cli, render
from readiness.cell import envdoc, fingerprint
from readiness.judge import baseline, merge, policy, verdict
from readiness.model import ids, schema
from readiness.model.errors import ReadinessError, UsageError
from readiness.model.plan import PlannedCell
from readiness.render import terminal
from readiness.run import cellrun
from readiness.run.folder import RunFolder

CELLS = ["linux-x86_64-cpython3.12", "windows-x86_64-wine-cpython3.11"]

# Each kind of hostile text; every check carries one in its id, title, category, message,
# traceback and evidence (key and value), and every message carries them all.
HOSTILE: Dict[str, str] = {
    "script": "<script>window.pwned=1</script>",
    "img": '<img src=x onerror="window.pwned=2">',
    "svg": '"><svg onload="window.pwned=3">',
    "attr": "' onmouseover='window.pwned=4' x='",
    "js-url": "javascript:window.pwned=5",
    "iframe": "<iframe src=\"javascript:window.pwned=6\"></iframe>",
    "md-link": "[click](javascript:window.pwned=7)",
    "md-image": "![img](http://example.invalid/pixel.png)",
    "md-autolink": "<http://example.invalid/auto>",
    "md-ref": "[x]: http://example.invalid/ref",
    "pipes": "| a | b |\n|---|---|",
    "details": "<details open><summary>s</summary><b>bold</b></details>",
    "heading": "# heading\n## another",
    "backticks": "`code` ``` fence ~~~",
    "emphasis": "**bold** _em_ ~~strike~~",
    "entity": "&lt;script&gt; &amp; &#x3C;",
    "newlines": "line one\nline two\r\nline three",
    "ansi-clear": "\x1b[2J\x1b[Hcleared",
    "osc8-link": "\x1b]8;;http://example.invalid/\x1b\\hyperlink\x1b]8;;\x1b\\",
    "osc-title": "\x1b]0;new title\x07",
    "c1-csi": "\x9b31mred\x9b0m",
    "cr-overwrite": "innocent\rEVIL",
    "bel-bs": "bell\x07back\x08\x08space",
    "bidi": "user\u202etxt.exe\u202c \u2066isolate\u2069 \u200fmark",
    "line-sep": "one\u2028two\u2029three",
    "xml-invalid": "nul\x00 vt\x0b ff\x0c esc\x1b del\x7f \ufffe \uffff end",
}
ALL = " ".join(HOSTILE.values())
RAW_CONTROLS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")
SGR = re.compile("\x1b\\[[0-9;]*m")


def hostile_checks(cell: str) -> List[Any]:
    records = []
    for name, text in HOSTILE.items():
        record = check(f"{name}:{text}", "failed" if cell.startswith("linux") else "passed",
                       severity="critical", category=f"cat {text}", message=f"{text} | {ALL}",
                       evidence={text: text, "nested": {"list": [text], text: None}}, title=f"title {text}")
        record.longrepr = f"Traceback:\n{ALL}\nE   AssertionError: {text}"
        records.append(record)
    return records


def write_hostile(folder: Path) -> None:
    """The documents as JSON files, every control character escaped (so they are valid JSON)."""
    folder.mkdir(parents=True, exist_ok=True)
    for cell in CELLS:
        doc = env(cell, hostile_checks(cell))
        (folder / f"{cell}.json").write_text(json.dumps(doc.to_dict(), ensure_ascii=True), encoding="utf-8")


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    """Every file format and the GitHub summary rendered through the CLI from the hostile documents."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764500000")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    write_hostile(tmp_path / "envs")
    assert cli.main(["report", "envs", "-o", "out"]) == 1
    assert "verdict: NO-GO" in capsys.readouterr().out
    return tmp_path


# --- HTML: in a real browser --------------------------------------------------------------


def test_hostile_text_stays_text_in_the_html_report_in_a_browser(run: Path, page: Any) -> None:
    requests: List[str] = []
    dialogs: List[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto((run / "out" / "report.html").as_uri())
    cells = page.locator("#rows td.o")
    assert cells.count() == len(HOSTILE) * len(CELLS)
    for index in range(cells.count()):  # every detail view: message, traceback, evidence
        cells.nth(index).click()
        page.hover("#rows tr td.id")
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert dialogs == []
    assert requests == [(run / "out" / "report.html").as_uri()]
    assert page.evaluate("document.scripts.length") == 2  # the page's data and its code, nothing more
    assert page.locator("img, svg, iframe, details, b, a, [onerror], [onload], [onmouseover]").count() == 0
    ids = page.locator("#rows td.id").all_text_contents()
    assert sorted(ids) == sorted(f"{name}:{text}" for name, text in HOSTILE.items())
    detail = page.text_content("#detail-body")
    assert HOSTILE["script"] in detail and HOSTILE["img"] in detail and HOSTILE["md-link"] in detail


# --- Markdown: rendered by a CommonMark renderer with raw HTML on ---------------------------


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: List[Tuple[str, List[Tuple[str, Any]]]] = []

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, Any]]) -> None:
        self.tags.append((tag, attrs))


def markdown_html(text: str) -> str:
    return MarkdownIt("commonmark", {"html": True}).enable("table").enable("strikethrough").render(text)


SAFE_TAGS = {"h1", "h2", "h3", "p", "strong", "code", "table", "thead", "tbody", "tr", "th", "td", "ul", "li", "br"}


@pytest.mark.parametrize("name", ["out/report.md", "summary.md"])
def test_markdown_reports_make_no_html_link_or_image(run: Path, name: str) -> None:
    text = (run / name).read_text(encoding="utf-8")
    assert not RAW_CONTROLS.search(text)
    html = markdown_html(text)
    parser = _Tags()
    parser.feed(html)
    assert {tag for tag, _ in parser.tags} <= SAFE_TAGS, html
    assert [attrs for _, attrs in parser.tags if attrs] == []  # no href, src, on* or style at all
    assert "window.pwned=1" in html and "\\x1b[2J" in html  # the text is there, as text
    if name == "out/report.md":
        tables = re.findall(r"<table>.*?</table>", html, re.S)
        checks_table = next(t for t in tables if "script:" in t)
        rows = re.findall(r"<tr>(.*?)</tr>", checks_table, re.S)
        assert len(rows) == 1 + len(HOSTILE)  # the header, then one row per check: no pipe split a row
        assert {len(re.findall(r"<t[hd]>", row)) for row in rows} == {5}  # check, category, severity, result, evidence


def test_the_gold_markdown_report_renders_to_the_same_plain_tags() -> None:
    gold = (Path(__file__).parent / "gold" / "report.md").read_text(encoding="utf-8")
    parser = _Tags()
    parser.feed(markdown_html(gold))
    assert {tag for tag, _ in parser.tags} <= SAFE_TAGS


# --- the terminal ---------------------------------------------------------------------------


def _judged(run: Path) -> Tuple[merge.Matrix, verdict.Verdict]:
    matrix = merge.merge_paths([str(run / "envs")])
    return matrix, verdict.decide(matrix, policy.load_policy(None, None), today=verdict.today_from_environment())


def _assert_inert_on_a_terminal(text: str) -> None:
    plain = SGR.sub("", text)  # the renderer's own colours
    assert "\x1b" not in plain
    assert not RAW_CONTROLS.search(plain), [m.group() for m in RAW_CONTROLS.finditer(plain)][:5]
    assert "\\x1b[2J" in plain or "\\x1b]8;;" in plain or "\\x9b" in plain


@pytest.mark.parametrize("color", [True, False])
def test_terminal_output_lets_no_control_character_through(run: Path, color: bool) -> None:
    matrix, result = _judged(run)
    (report,) = render.render("terminal", matrix, result, color=color)
    _assert_inert_on_a_terminal(report.text)
    _assert_inert_on_a_terminal(terminal.verdict_text(result, color=color))
    if color:
        assert SGR.search(report.text)
    lines = report.text.splitlines()
    table = lines[lines.index("check".ljust(60) + "  1  2") + 1:]
    assert [SGR.sub("", line)[-6:] for line in table[: len(HOSTILE) + 1]] == ["  F  ."] * len(HOSTILE) + [
        "y cell"]  # one line per check: no newline in an id split a row


def test_terminal_commands_let_no_control_character_through(run: Path, capsys: pytest.CaptureFixture[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert cli.main(["report", "envs"]) == 1
    assert cli.main(["verdict", "envs"]) == 1
    assert cli.main(["compare", "envs"]) == 0
    out, err = capsys.readouterr()
    _assert_inert_on_a_terminal(out + err)
    broken = run / "broken"
    broken.mkdir()
    (broken / "x.json").write_text(json.dumps({"kind": "readiness/env", "schema": 1, "run_id": "\x1b[2J\u202e"}),
                                   encoding="utf-8")
    assert cli.main(["verdict", "broken"]) == 3
    out, err = capsys.readouterr()
    assert "\x1b" not in out + err and "\u202e" not in out + err


# --- JUnit, CTRF and JSON ---------------------------------------------------------------------

XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def test_junit_is_strict_xml_with_the_hostile_text_as_text(run: Path) -> None:
    text = (run / "out" / "junit.xml").read_text(encoding="utf-8")
    assert not XML_INVALID.search(text)
    root = ET.fromstring(text.encode("utf-8"))  # expat: well-formed XML 1.0 or an error
    names = {case.get("name") for case in root.iter("testcase")}
    assert f"script:{HOSTILE['script']}" in names and f"md-link:{HOSTILE['md-link']}" in names
    failure = next(root.iter("failure"))
    assert HOSTILE["img"] in failure.get("message", "") and HOSTILE["svg"] in (failure.text or "")


def _strict_json(path: Path) -> Any:
    def refuse(constant: str) -> Any:
        raise ValueError(constant)

    return json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)


def test_ctrf_and_json_round_trip_the_hostile_text(run: Path) -> None:
    written = sorted(p.relative_to(run / "out").as_posix() for p in (run / "out").rglob("*") if p.is_file())
    assert written == ["ctrf/linux-x86_64-cpython3.12.json", "ctrf/windows-x86_64-wine-cpython3.11.json",
                       "junit.xml", "matrix.json", "report.html", "report.md", "verdict.json"]
    expected = {f"{name}:{text}": text for name, text in HOSTILE.items()}
    for cell in CELLS:
        tests = _strict_json(run / "out" / "ctrf" / f"{cell}.json")["results"]["tests"]
        assert {t["name"] for t in tests} == set(expected)
        for test in tests:
            text = expected[test["name"]]
            assert test["message"] == f"{text} | {ALL}" and test["extra"]["evidence"][text] == text
            assert test["trace"].endswith(f"E   AssertionError: {text}")
    matrix = _strict_json(run / "out" / "matrix.json")
    assert {c["id"] for c in matrix["checks"]} == set(expected)
    docs = {c["id"]: c["document"] for c in matrix["cells"]}
    assert docs[CELLS[0]]["checks"][0]["evidence"] == hostile_checks(CELLS[0])[0].evidence
    assert _strict_json(run / "out" / "verdict.json")["state"] == "NO-GO"


# --- a cell id that is a path -----------------------------------------------------------------

BAD_CELL_IDS = [
    "../../escaped-x86_64-cpython3.12",
    "linux-x86_64-cpython3.12/../../../escaped",
    "linux-x86_64-cpython3.12\\..\\..\\escaped",
    "..",
    "/tmp/escaped-x86_64-cpython3.12",
    "C:escaped-x86_64-cpython3.12",
    "C:\\escaped\\linux-x86_64-cpython3.12",
    "linux-x86_64-cpython3.12\n",
    "linux-x86_64-cpython3.12\x00.json",
    "linux-x86_64-cpython3.12 ",
    "",
]


def _files(root: Path) -> Set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


def test_the_cell_id_guard_is_the_schemas_pattern() -> None:
    for kind, where in (("env", ("$defs", "cell", "properties", "id")), ("plan", ("$defs", "cell_id"))):
        node: Any = schema.shipped(kind, 1)
        for key in where:
            node = node[key]
        assert node["pattern"] == f"^{ids.CELL_ID_PATTERN.pattern}$"
    for cell in ["linux-x86_64-cpython3.12", "windows-x86_64-wine-cpython3.13t", "macos-arm64-pypy3.10"]:
        assert ids.cell_file("envs", cell, ".json") == Path("envs") / f"{cell}.json"


@pytest.mark.parametrize("cell", BAD_CELL_IDS)
def test_a_cell_id_that_is_a_path_names_no_file(tmp_path: Path, cell: str) -> None:
    for attempt in (lambda: ids.cell_file(tmp_path / "envs", cell, ".json"),
                    lambda: cellrun.coverage_data_path(str(tmp_path / "coverage" / "{cell}.coverage"), cell),
                    lambda: envdoc.document_path(tmp_path, "envs", cell),
                    lambda: PlannedCell(cell, "3.12", None),
                    lambda: RunFolder(tmp_path, "run-1").document(cell)):
        with pytest.raises(UsageError, match=r"cell id .* is not a cell id: .* cannot be a path"):
            attempt()
    assert _files(tmp_path) == set()


@pytest.mark.parametrize("cell", BAD_CELL_IDS)
def test_a_document_whose_cell_id_is_a_path_is_refused_and_writes_nothing_outside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], cell: str
) -> None:
    work = tmp_path / "work"
    (work / "envs").mkdir(parents=True)
    monkeypatch.chdir(work)
    good = env(CELLS[0], [check("health")])
    write(work / "envs", good)
    bad = good.to_dict()
    bad["cell"]["id"] = cell.replace("/tmp/", f"{tmp_path.as_posix()}/")
    (work / "envs" / "bad.json").write_text(json.dumps(bad), encoding="utf-8")
    assert cli.main(["report", "envs", "-o", "out"]) == 3
    out = capsys.readouterr().out
    assert "verdict: INCOMPLETE" in out
    matrix = json.loads((work / "out" / "matrix.json").read_text(encoding="utf-8"))
    (problem,) = matrix["problems"]
    assert "bad.json: field $.cell.id:" in problem["message"]
    assert _files(tmp_path) == {"work", "work/envs", "work/out", "work/out/ctrf", *(f"work/{p}" for p in [
        f"envs/{CELLS[0]}.json", "envs/bad.json", f"out/ctrf/{CELLS[0]}.json", "out/junit.xml", "out/matrix.json",
        "out/report.html", "out/report.md", "out/verdict.json"])}


@pytest.mark.parametrize("cell", BAD_CELL_IDS)
def test_the_report_library_refuses_a_cell_id_that_is_a_path(tmp_path: Path, cell: str) -> None:
    doc = env(CELLS[0], [check("health", "failed")])
    doc.cell_id = cell
    matrix = merge.Matrix(run_id="run-1", documents={cell: doc})
    result = verdict.decide(matrix, policy.load_policy(None, None), today=verdict.today_from_environment())
    with pytest.raises(ReadinessError, match="is not a cell id"):
        render.write_reports(matrix, result, tmp_path / "out", ["ctrf"])
    assert _files(tmp_path) == set()


def test_run_ids_and_baseline_names_that_are_paths_are_refused(tmp_path: Path) -> None:
    for value in ["../../escaped", "a/b", "x\n", "C:\\x", ""]:
        with pytest.raises(UsageError, match="is not a valid run id"):
            ids.check_run_id(value, "--run-id")
        with pytest.raises(UsageError, match=r"READINESS_RUN_ID=.* is not a valid run id"):
            fingerprint.run_id({"READINESS_RUN_ID": value})
    with pytest.raises(UsageError, match="GITHUB_RUN_ID"):
        fingerprint.run_id({"GITHUB_RUN_ID": "1/../../x"})
    matrix = merge.Matrix(run_id="run-1", documents={CELLS[0]: env(CELLS[0], [check("health")])})
    for name in ["../escaped", "x\n", "a/b"]:
        with pytest.raises(UsageError, match="baseline name"):
            baseline.save(matrix, name, root=tmp_path)
    assert _files(tmp_path) == set()


def test_an_escaped_lone_surrogate_is_refused_naming_the_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    doc = env(CELLS[0], [check("health", message="half \ud800 a character")])
    (tmp_path / "envs").mkdir()
    (tmp_path / "envs" / "doc.json").write_text(json.dumps(doc.to_dict(), ensure_ascii=True), encoding="utf-8")
    assert cli.main(["report", "envs", "-o", "out", "--format", "md"]) == 3
    assert (tmp_path / "out" / "report.md").is_file()
    report = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "doc.json: field $.checks\\[0\\].message holds a lone UTF-16 surrogate, not text" in report
    assert "Traceback" not in capsys.readouterr().err
