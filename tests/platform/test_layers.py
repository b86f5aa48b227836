"""The floors of shared/ARCHITECTURE.md hold: import-linter's layers contract (make lint)
passes on the tree, and fails as soon as a lower app imports a higher one."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ["circles", "media", "notifications", "accounts", "posts", "stories", "messaging"]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

pytestmark = pytest.mark.xdist_group("layers")


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
    )


def test_the_tree_keeps_the_floors():
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Imports point down the floors KEPT" in result.stdout


@pytest.mark.parametrize(
    ("module", "upward"),
    [
        ("accounts/upward.py", "from posts.models import Post"),
        ("media/upward.py", "import accounts.services"),
        ("posts/upward.py", "from messaging import services"),
        ("stories/upward.py", "from messaging.models import Message"),
        ("circles/upward.py", "from media.models import Image"),
        ("messaging/upward.py", "from ops.backup import backup_write"),  # ops is the top
    ],
)
def test_an_upward_import_breaks_the_contract(tmp_path, module, upward):
    for package in PACKAGES:
        shutil.copytree(
            REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / module).write_text(f"def later():\n    {upward}\n")  # inside a function too
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert (
        "BROKEN" in result.stdout and module.replace("/", ".").removesuffix(".py") in result.stdout
    )
