"""The code's shape: no module under idp/ grows past the size at which it is split."""

from __future__ import annotations

from pathlib import Path

MAX_LINES = 400
IDP = Path(__file__).resolve().parent.parent / "idp"


def too_long(package: Path, limit: int = MAX_LINES) -> list[str]:
    """Each module under `package` longer than `limit` lines, with its count."""
    found = []
    for path in sorted(package.rglob("*.py")):
        count = len(path.read_text(encoding="utf-8").splitlines())
        if count > limit:
            found.append(f"{path.relative_to(package.parent).as_posix()}: {count} lines")
    return found


def test_no_module_under_idp_is_longer_than_400_lines():
    offenders = too_long(IDP)
    assert not offenders, f"split by concern (at most {MAX_LINES} lines a module):\n  " + "\n  ".join(offenders)


def test_the_check_names_each_long_module_with_its_count(tmp_path):
    package = tmp_path / "idp"
    (package / "feature").mkdir(parents=True)
    (package / "short.py").write_text("x = 1\n" * MAX_LINES)
    (package / "feature" / "long.py").write_text("x = 1\n" * (MAX_LINES + 1))
    (package / "feature" / "notes.txt").write_text("x\n" * 1000)
    assert too_long(package) == ["idp/feature/long.py: 401 lines"]
