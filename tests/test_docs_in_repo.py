"""Every design note the code cites is in the repository, where a maintainer who clones it finds it.

The statement, the encodings, the bounds and the trust chain live in docs/design.md, the layout
and coding rules in docs/style.md. A docstring or comment that cites a ``.md`` document (a path
such as docs/design.md, or an upper-case note such as DESIGN.md) must cite one that exists (a path
from the repository root), and "docs/style.md rule N" must be a rule that document has.
(Docstrings once cited DESIGN.md and STYLE.md, notes kept outside the repository.)
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("zkmargin", "circuits", "prover", "verifier", "benchmarks", "tests", "scripts")
_MD = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w.-]+\.md)\b")
_RULES = re.compile(r"docs/style\.md rules? ((?:\d+(?:, | and |, and )?)+)")

#: Files another change owns right now; each still cites a note outside the repository. Strict:
#: once fixed, the xfail below turns into a failure that says to remove the entry.
PENDING: dict[str, str] = {}


def _python_files() -> list[Path]:
    out: list[Path] = []
    for top in SOURCES:
        out += [p for p in (ROOT / top).rglob("*.py") if "node_modules" not in p.parts]
    return sorted(out)


def _is_citation(name: str) -> bool:
    """A document reference: a path (``docs/design.md``) or an upper-case note (``DESIGN.md``,
    ``README.md``). A bare lower-case name (``bench.md``) is a file some command writes."""
    stem = name.rsplit("/", 1)[-1][: -len(".md")]
    return "/" in name or stem.isupper()


def bad_citations(path: Path) -> list[str]:
    """``file:line: what`` for each citation in ``path`` of a document missing from the repository."""
    text = path.read_text(encoding="utf-8")
    rel = path.relative_to(ROOT).as_posix()
    rules = {int(m) for m in re.findall(r"^(\d+)\. \*\*", (ROOT / "docs" / "style.md").read_text(), re.M)}
    out = []
    for lineno, line in enumerate(text.splitlines(), 1):
        for name in _MD.findall(line):
            if not _is_citation(name):
                continue
            if not (ROOT / name).is_file():
                out.append(f"{rel}:{lineno}: cites {name}, which is not in the repository")
        for group in _RULES.findall(line):
            for n in map(int, re.findall(r"\d+", group)):
                if n not in rules:
                    out.append(f"{rel}:{lineno}: cites docs/style.md rule {n}, which it does not have")
    return out


def test_design_notes_are_in_the_repository() -> None:
    design = (ROOT / "docs" / "design.md").read_text()
    for heading in ("## The statements", "## The trust chain", "## Arithmetic", "## Margin models"):
        assert heading in design
    for spec in ("zkmargin/encoding.py", "zkmargin/margin/limits.py", "circuits/margin/__init__.py"):
        assert f"`{spec}`" in design and (ROOT / spec).is_file(), spec


def test_every_cited_document_is_in_the_repository() -> None:
    this = Path(__file__).resolve()  # it quotes the old citations on purpose
    files = [p for p in _python_files() if p.relative_to(ROOT).as_posix() not in PENDING and p != this]
    assert len(files) > 100
    problems = [msg for p in files for msg in bad_citations(p)]
    assert problems == []



def test_the_check_sees_a_citation_of_a_missing_note(tmp_path: Path) -> None:
    """Positive control: the old citations are found, a valid one is not."""
    probe = ROOT / "tests" / "_probe_citations.py"
    lines = ['"""DESIGN.md\'s statement (STYLE.md rule 5), see docs/design.md and docs/style.md rule 12."""',
             "# docs/style.md rules 3, 99; writes bench.md (an output file, not a citation); docs/gone.md"]
    probe.write_text("\n".join(lines) + "\n")
    try:
        got = bad_citations(probe)
    finally:
        probe.unlink()
    assert got == [
        "tests/_probe_citations.py:1: cites DESIGN.md, which is not in the repository",
        "tests/_probe_citations.py:1: cites STYLE.md, which is not in the repository",
        "tests/_probe_citations.py:2: cites docs/gone.md, which is not in the repository",
        "tests/_probe_citations.py:2: cites docs/style.md rule 99, which it does not have",
    ]
