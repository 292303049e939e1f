"""config/idp.example.toml documents every setting with its real default."""

from __future__ import annotations

import tomllib
from pathlib import Path

from idp.settings import Settings

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "idp.example.toml"


def test_the_example_names_every_setting_with_its_default():
    example = tomllib.loads(EXAMPLE.read_text())
    defaults = Settings(secret_key="x").model_dump(mode="json")
    for section, value in defaults.items():
        if isinstance(value, dict):
            if not value:
                continue  # a feature section with no settings yet
            assert set(example[section]) == set(value), section
            for name, default in value.items():
                if (section == "database" and name == "url") or (section == "redis" and name == "url") or name == "password":
                    continue  # secrets show as empty strings
                assert example[section][name] == default, f"{section}.{name}"
        elif section not in ("secret_key", "encryption_keys", "instance_path", "testing"):
            assert example[section] == value, section
