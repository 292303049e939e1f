"""An installed wheel, not the source tree, serves the pages: templates, styles, translations and migrations ship inside it."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import sys, tempfile
import idp
assert 'site' in idp.__file__ or 'target' in idp.__file__, idp.__file__
from idp import create_app
from idp.settings import load_settings
from idp.stores.migrate import upgrade
tmp = tempfile.mkdtemp()
url = f"sqlite:///{tmp}/idp.sqlite3"
upgrade(url)
app = create_app(load_settings(testing=True, instance_path=tmp, database={"url": url}))
client = app.test_client()
page = client.get("/login", headers={"Accept-Language": "fr"})
assert page.status_code == 200 and "Se connecter" in page.get_data(as_text=True), page.status_code
assert client.get("/static/idp.css").status_code == 200
print("wheel ok", idp.__file__)
"""


def test_the_wheel_carries_everything_a_page_needs(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )
    [wheel] = tmp_path.glob("idp-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "idp/templates/auth/identify.html",
        "idp/templates/mail/account_locked.txt",
        "idp/static/idp.css",
        "idp/translations/fr/LC_MESSAGES/messages.mo",
        "idp/stores/migrations/env.py",
    ):
        assert needed in names, needed
    assert any(n.startswith("idp/stores/migrations/versions/0001") for n in names)
    target = tmp_path / "target"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True, capture_output=True, timeout=300,
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert str(target) in result.stdout


def test_a_listed_capability_that_cannot_start_stops_the_application(monkeypatch, settings):
    import idp

    monkeypatch.setattr(idp, "CAPABILITIES", (*idp.CAPABILITIES, "idp.no_such_capability"))
    with pytest.raises(ModuleNotFoundError, match=r"idp\.no_such_capability"):
        idp.create_app(settings)
