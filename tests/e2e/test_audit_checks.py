"""The page audit's checks find what they are meant to find, on small pages made for it, and the
service's style sheet lays a table with row actions out as cards on a phone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.audit_checks import LAYOUT
from tests.e2e.audit_checks import ROOT
from tests.e2e.audit_checks import TEXTS
from tests.e2e.audit_checks import audit
from tests.e2e.audit_checks import untranslated

PHONE = {"width": 390, "height": 844}
STYLE = (ROOT / "static" / "idp.css").read_text()

SESSIONS = """<!doctype html><html lang="en"><head><title>Sessions</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{style}</style></head>
<body><main id="main" class="wide"><h1>Sessions</h1><div class="table-scroll"><table>
<thead><tr><th scope="col">Device</th><th scope="col">IP address</th><th scope="col">Signed in</th>
<th scope="col">Last seen</th><th scope="col">Methods</th><th scope="col">Action</th></tr></thead>
<tbody><tr><td data-label="Device">Firefox 128 on Linux</td><td data-label="IP address">2001:db8:85a3::8a2e:370:7334</td>
<td data-label="Signed in">1 December 2026, 17:10 UTC</td><td data-label="Last seen">1 December 2026, 17:10 UTC</td>
<td data-label="Methods">password, authenticator code</td>
<td><form><button type="submit">End this session</button></form></td></tr></tbody></table></div></main></body></html>"""


@pytest.fixture
def phone(_plain_browser: Any) -> Iterator[Any]:
    page = _plain_browser.new_page(viewport=PHONE)
    yield page
    page.close()


def test_row_actions_of_a_sideways_scrolling_table_are_reported(phone):
    phone.set_content(SESSIONS.format(style=".table-scroll { overflow-x:auto; } td { padding:.5rem; white-space:nowrap; }"))
    problems = phone.evaluate(LAYOUT)
    assert problems == ['<button> "End this session" is outside the visible width']


def test_the_style_sheet_makes_cards_of_table_rows_on_a_phone(phone):
    phone.set_content(SESSIONS.format(style=STYLE))
    assert phone.evaluate(LAYOUT) == []
    row = phone.locator("tbody tr").bounding_box()
    assert row["width"] <= PHONE["width"]
    label = phone.evaluate("getComputedStyle(document.querySelector('td[data-label]'), '::before').content")
    assert label == '"Device"'


def test_overflow_duplicate_ids_and_a_skip_link(phone):
    phone.set_content("""<html lang="en"><body><style>.skip{position:absolute;left:-999px}.skip:focus{left:1rem}</style>
    <a class="skip" href="#main">Skip to content</a><main id="main"><div style="width:600px">wide</div>
    <input type="hidden" id="csrf_token"><input type="hidden" id="csrf_token"></main></body></html>""")
    assert phone.evaluate(LAYOUT) == [
        "the page scrolls sideways: 608px wide in a 390px viewport", 'id "csrf_token" is used 2 times',
    ]


def test_english_on_a_french_page_is_reported_but_not_text_marked_english(phone):
    phone.set_content("""<html lang="fr"><head><title>Sécurité</title></head><body><main>
    <p>Sign out</p><h1>Hello, Ada Lovelace</h1><button aria-label="Remove Blue key">x</button>
    <a lang="en" href="?lang=en">English</a><p lang="en">Sign-in notifications</p><p>Se déconnecter</p>
    </main></body></html>""")
    assert untranslated(phone.evaluate(TEXTS)) == [
        "English text on a French page: 'Hello, Ada Lovelace'",
        "English text on a French page: 'Remove Blue key'",
        "English text on a French page: 'Sign out'",
    ]


def test_axe_reports_a_field_without_a_label(phone):
    phone.set_content("""<html lang="en"><head><title>Form</title></head><body><main>
    <h1>Form</h1><form><input name="code"><button type="submit">Go</button></form></main></body></html>""")
    problems = audit(phone, french=False)
    assert len(problems) == 1 and problems[0].startswith("axe label (critical): Form elements must have labels")
