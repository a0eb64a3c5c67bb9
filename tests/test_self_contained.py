"""The suite stands alone: no test module, fake or conftest reaches outside the repository.

A fresh clone has nothing beside it, so every file a test reads lives in the repository (real
fixtures in tests/data/, see its README). This test reads every .py file under tests/ and fails,
naming the file and line, when one of them

- names the reference data folder that sits beside the repository on the dev machines, or an
  absolute path of a machine (a home, a workspace, /tmp), anywhere in its text;
- builds a path from ``__file__`` (or from a name holding one, also imported from another test
  module) that climbs above the repository root: ``.parent``, ``.parents[n]``,
  ``os.path.dirname`` and ``".."`` segments are counted against the file's depth;
- walks every parent folder of the file, or joins a ``"shared"`` segment, an absolute path or a
  ``".."`` segment into a path that is not under a pytest temporary folder.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
TESTS = REPO_ROOT / "tests"

# Matched against every line of every file, comments and docstrings included.
TEXT_RULES = [
    (re.compile(r"shared[/\\]+data"), "names the reference data folder outside the repository"),
    (
        re.compile(r"(?<![\w.:/~-])/(?:work|home|Users|root|mnt|srv|tmp)/"),
        "an absolute path of a machine",
    ),
]
PATH_BUILDERS = {"Path", "PurePath", "PosixPath", "PurePosixPath", "WindowsPath", "open"}
TMP_ROOTS = {"tmp_path", "tmp_path_factory", "tmpdir", "tmpdir_factory"}
OUTSIDE = -1  # the depth of any place above the repository root
Exports = dict[str, dict[str, int]]  # module name → its names that hold a path from __file__


@dataclass(frozen=True, order=True)
class Finding:
    path: str
    line: int
    reason: str
    source: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}\n    {self.source.strip()}"


def _dotted(node: ast.AST) -> str:
    """``os.path.join`` for the call ``os.path.join(...)``; '' when the callee is not a name."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else ""
    return ""


def _segments(text: str) -> list[str]:
    return [part for part in re.split(r"[/\\]+", text) if part not in ("", ".")]


class _Module:
    """Depth of path expressions in one module: 0 is the repository root, 1 a folder in it…"""

    def __init__(self, depth_of_file: int, nodes: list[ast.AST], imported: Exports) -> None:
        self.nodes = nodes  # every node of the module's tree, walked once
        self.depth_of_file = depth_of_file
        self.names: dict[str, int] = {}
        self.found: set[tuple[int, str]] = set()
        self._depths: dict[int, int | None] = {}  # by id(node): each node is followed once
        for node in nodes:
            if isinstance(node, ast.ImportFrom) and node.module in imported:
                for alias in node.names:
                    depth = imported[node.module].get(alias.name)
                    if depth is not None:
                        self.names[alias.asname or alias.name] = depth
                    if depth == OUTSIDE:
                        self.report(node, f"imports {alias.name}, a path outside the repository")
        assignments = [n for n in nodes if isinstance(n, ast.Assign | ast.AnnAssign)]
        for node in sorted(assignments, key=lambda n: n.lineno):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            depth = self.depth(node.value) if node.value is not None else None
            for target in targets:
                if isinstance(target, ast.Name) and depth is not None:
                    self.names[target.id] = depth

    def report(self, node: ast.AST, reason: str) -> None:
        self.found.add((node.lineno, reason))

    def _step(self, node: ast.AST, depth: int | None, change: int) -> int | None:
        if depth is None or depth == OUTSIDE:
            return depth
        if depth + change < 0:
            self.report(node, "climbs above the repository root")
            return OUTSIDE
        return depth + change

    def _join(self, node: ast.AST, depth: int | None, parts: list[ast.expr]) -> int | None:
        for part in parts:
            if not (isinstance(part, ast.Constant) and isinstance(part.value, str)):
                return None  # an unknown segment: stop following the path
            for segment in _segments(part.value):
                depth = self._step(node, depth, -1 if segment == ".." else 1)
        return depth

    def depth(self, node: ast.AST) -> int | None:
        """Where ``node`` points, as a depth below the root, if it is a path built from
        ``__file__``; OUTSIDE once it has climbed above the root; None when unknown."""
        if id(node) not in self._depths:
            self._depths[id(node)] = self._follow(node)
        return self._depths[id(node)]

    def _follow(self, node: ast.AST) -> int | None:
        if isinstance(node, ast.Name):
            return self.depth_of_file if node.id == "__file__" else self.names.get(node.id)
        if isinstance(node, ast.Attribute) and node.attr == "parent":
            return self._step(node, self.depth(node.value), -1)
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "parents"
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, int)
        ):
            return self._step(node, self.depth(node.value.value), -(node.slice.value + 1))
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            return self._join(node, self.depth(node.left), [node.right])
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            last = name.rsplit(".", 1)[-1]
            if last in PATH_BUILDERS - {"open"} and node.args:
                return self._join(node, self.depth(node.args[0]), node.args[1:])
            if name == "os.path.join" and node.args:
                return self._join(node, self.depth(node.args[0]), node.args[1:])
            if name == "os.path.dirname" and node.args:
                return self._step(node, self.depth(node.args[0]), -1)
            if name in ("os.path.abspath", "os.path.realpath", "os.path.normpath") and node.args:
                return self.depth(node.args[0])
            if isinstance(node.func, ast.Attribute):
                if node.func.attr in ("resolve", "absolute", "expanduser"):
                    return self.depth(node.func.value)
                if node.func.attr == "joinpath":
                    return self._join(node, self.depth(node.func.value), node.args)
        return None

    def _root(self, node: ast.AST) -> str:
        """The name a path chain starts from: ``tmp_path`` for ``tmp_path / "a" / "b"``."""
        while True:
            if isinstance(node, ast.BinOp):
                node = node.left
            elif isinstance(node, ast.Attribute | ast.Subscript):
                node = node.value
            elif isinstance(node, ast.Call):
                node = node.args[0] if _dotted(node.func) in PATH_BUILDERS and node.args else node
                if isinstance(node, ast.Call):
                    node = node.func
            else:
                return node.id if isinstance(node, ast.Name) else ""

    def _check_segment(self, chain: ast.AST, part: ast.AST) -> None:
        if not (isinstance(part, ast.Constant) and isinstance(part.value, str)):
            return
        if self._root(chain) in TMP_ROOTS:
            return
        text = part.value
        if "shared" in _segments(text):
            self.report(part, "joins a 'shared' folder, which is not in the repository")
        if ".." in _segments(text) and self.depth(chain) is None:
            self.report(part, "a '..' path that climbs out of a folder the test does not own")
        if text.startswith(("/", "~")) or re.match(r"^[A-Za-z]:[\\/]", text):
            self.report(part, "joins an absolute path")

    def findings(self) -> set[tuple[int, str]]:
        for node in self.nodes:
            self.depth(node)
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
                self._check_segment(node, node.right)
                if isinstance(node.left, ast.Constant):
                    self._check_segment(node, node.left)
            elif isinstance(node, ast.Call):
                name = _dotted(node.func)
                joins = isinstance(node.func, ast.Attribute) and node.func.attr == "joinpath"
                if joins or name == "os.path.join" or name.rsplit(".", 1)[-1] in PATH_BUILDERS:
                    for arg in node.args:
                        self._check_segment(node, arg)
            elif (
                isinstance(node, ast.For)
                and isinstance(node.iter, ast.Attribute)
                and node.iter.attr == "parents"
                and self.depth(node.iter.value) is not None
            ):
                self.report(node, "walks every parent folder of the file, up past the repository")
        return self.found


def scan(root: Path) -> list[Finding]:
    """Every place in the .py files under ``root``/tests that leads out of ``root``."""
    files = sorted(p for p in (root / "tests").rglob("*.py") if "__pycache__" not in p.parts)
    relative = {path: path.relative_to(root) for path in files}
    texts = {path: path.read_text(encoding="utf-8") for path in files}
    nodes = {path: list(ast.walk(ast.parse(texts[path], str(path)))) for path in files}
    exported: Exports = {}
    for path in files:  # first pass: the names other modules may import
        module = ".".join(relative[path].with_suffix("").parts)
        exported[module] = _Module(len(relative[path].parts), nodes[path], {}).names
    findings = set()
    for path in files:
        lines = texts[path].splitlines()
        name = relative[path].as_posix()
        for number, text in enumerate(lines, start=1):
            for pattern, reason in TEXT_RULES:
                if pattern.search(text):
                    findings.add(Finding(name, number, reason, text))
        for number, reason in _Module(len(relative[path].parts), nodes[path], exported).findings():
            findings.add(Finding(name, number, reason, lines[number - 1]))
    return sorted(findings)


def test_no_test_module_fake_or_conftest_refers_to_a_path_outside_the_repository():
    assert (TESTS / "conftest.py").is_file()
    assert (TESTS / "fakes" / "hyperliquid_server.py").is_file()

    findings = scan(REPO_ROOT)

    if findings:
        pytest.fail("tests reach outside the repository:\n" + "\n".join(map(str, findings)))


def test_the_test_data_folder_holds_every_file_its_readme_lists():
    readme = (TESTS / "data" / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([^`]+)` \|", readme, flags=re.MULTILINE))
    shipped = {
        str(p.relative_to(TESTS / "data"))
        for p in (TESTS / "data").rglob("*")
        if p.is_file() and p.name != "README.md"
    }
    assert listed == shipped


# -- the scanner itself, on small sources in a repository of its own ------------------------

ABOVE = "/".join([".."] * 4)  # built, so that this file does not contain it
BESIDE = "shared"
CONFTEST = "from pathlib import Path\nREPO_ROOT = Path(__file__).resolve().parents[1]\n"


def _probe(root: Path, source: str) -> tuple[str, int]:
    """A fake module at tests/fakes/probe.py (depth 3) whose last line is ``source``'s last."""
    (root / "tests" / "fakes").mkdir(parents=True)
    (root / "tests" / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    probe = root / "tests" / "fakes" / "probe.py"
    probe.write_text(f"import os\nfrom pathlib import Path\n{source}\n", encoding="utf-8")
    return "tests/fakes/probe.py", 2 + source.count("\n") + 1


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        (f'D = Path(__file__).resolve().parents[3] / "{BESIDE}"', "climbs above the repository"),
        ("ROOT = Path(__file__).parents[2]\nUP = ROOT.parent", "climbs above the repository"),
        ("UP = " + "os.path.dirname(" * 4 + "__file__" + ")" * 4, "climbs above the repository"),
        (f'UP = Path(__file__).parent / "{ABOVE}"', "climbs above the repository root"),
        (f'D = Path(__file__).parent / "data" / "{ABOVE}/x"', "climbs above the repository"),
        (f'D = Path(__file__).parent.joinpath("{ABOVE}")', "climbs above the repository root"),
        ("for p in Path(__file__).parents: pass", "walks every parent folder"),
        (f'D = base / "{BESIDE}" / "data"', "joins a 'shared' folder"),
        (f'D = Path("{ABOVE}/x.csv")', "a '..' path that climbs out"),
        ('D = Path("/srv", "x")', "joins an absolute path"),
        (f'D = "/{"work"}/x.csv"', "an absolute path of a machine"),
        (f"# the data lives in ../{BESIDE}/{'data'}", "names the reference data folder"),
        ("from tests.conftest import REPO_ROOT\nD = REPO_ROOT.parent", "climbs above"),
    ],
)
def test_the_scanner_names_the_file_and_line_that_leave_the_repository(source, reason, tmp_path):
    name, line = _probe(tmp_path, source)

    findings = scan(tmp_path)

    assert {(f.path, f.line) for f in findings} == {(name, line)}
    assert any(reason in f.reason for f in findings), findings
    assert str(findings[0]).startswith(f"{name}:{line}: ")


@pytest.mark.parametrize(
    "source",
    [
        'D = Path(__file__).resolve().parents[2] / "tests" / "data"',  # the repository root
        'D = Path(__file__).parent.parent / "examples"',
        "from tests.conftest import REPO_ROOT\nD = REPO_ROOT / 'examples'",
        f'D = tmp_path / "{BESIDE}.db"',
        f'D = tmp_path / "{BESIDE}" / "x.db"',  # a temporary folder the test owns
        'for bad in ("../../etc/passwd", "abc"):\n    pass',  # data, not a path being built
        'ENV = {"PATH": "/usr/bin:/bin"}',
    ],
)
def test_the_scanner_accepts_paths_inside_the_repository_and_temporary_folders(source, tmp_path):
    _probe(tmp_path, source)

    assert scan(tmp_path) == []
