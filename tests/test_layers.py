"""No module imports one of a higher layer (ARCHITECTURE.md, "Layers and what each may import")."""

from __future__ import annotations

import ast
from pathlib import Path

from twisted.trial import unittest

PACKAGE = Path(__file__).resolve().parent.parent / "ouchsim"

#: For each layer, the ouchsim modules and the third-party roots it may import.
ALLOWED = {
    "ouch": ({"ouchsim.ouch"}, set()),
    "soupbintcp": ({"ouchsim.soupbintcp"}, {"twisted", "zope.interface"}),
    "engine": ({"ouchsim.engine"}, {"twisted.internet.defer", "twisted.python.failure"}),
    "journal": ({"ouchsim.journal", "ouchsim.timestamps"}, {"twisted", "zope.interface"}),
    "gateway": ({"ouchsim.gateway", "ouchsim.ouch", "ouchsim.engine", "ouchsim.journal", "ouchsim.config"},
                {"twisted.logger"}),
}

STDLIB_ROOTS = {
    "__future__", "collections", "dataclasses", "decimal", "enum", "functools", "itertools", "math", "operator",
    "re", "struct", "typing", "zlib", "os", "io", "time", "datetime", "heapq", "bisect", "array", "abc",
    "errno", "pathlib", "sys", "zoneinfo", "threading", "contextlib", "types", "string", "binascii",
}


def imports_of(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def allowed(name: str, own: set[str], third_party: set[str]) -> bool:
    if name.split(".")[0] in STDLIB_ROOTS:
        return True
    return any(name == prefix or name.startswith(prefix + ".") for prefix in own | third_party)


class LayerTests(unittest.TestCase):
    def test_no_upward_imports(self) -> None:
        problems = []
        for layer, (own, third_party) in ALLOWED.items():
            for path in sorted((PACKAGE / layer).glob("*.py")):
                for name in imports_of(path):
                    if not allowed(name, own, third_party):
                        problems.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
        self.assertEqual(problems, [])

    def test_codec_and_book_import_no_twisted(self) -> None:
        for path in [*(PACKAGE / "ouch").glob("*.py"), PACKAGE / "engine" / "book.py"]:
            self.assertFalse([name for name in imports_of(path) if name.startswith("twisted")], path)
