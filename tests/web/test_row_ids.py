"""Every id in an address goes through `row_id` (idp.web.plumbing.RowIdConverter): a number past
what a row id can be is a 400 with a message, before a view or a store sees it (PostgreSQL
would fail on it), on every route that takes one."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import AnyConverter
from werkzeug.routing import IntegerConverter

from idp.web.plumbing import MAX_ROW_ID
from idp.web.plumbing import RowIdConverter


def _rules_with_ids(app: Any) -> list[Any]:
    return [rule for rule in app.url_map.iter_rules()
            if any(isinstance(c, IntegerConverter) for c in rule._converters.values())]


def test_every_integer_in_an_address_is_a_row_id(app: Any) -> None:
    rules = _rules_with_ids(app)
    assert len(rules) >= 15  # the member, phone, key, token, order, payout, transfer ... routes
    plain = [rule.rule for rule in rules
             if any(type(c) is not RowIdConverter for c in rule._converters.values() if isinstance(c, IntegerConverter))]
    assert plain == []


def test_a_number_too_large_is_a_400_on_every_route(app: Any, client: Any) -> None:
    for rule in _rules_with_ids(app):
        values = {name: (MAX_ROW_ID + 1 if isinstance(conv, IntegerConverter)
                         else sorted(conv.items)[0] if isinstance(conv, AnyConverter) else "acme")
                  for name, conv in rule._converters.items()}
        path = rule.build(values, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method)
            assert response.status_code == 400, (method, path, response.status_code)
            assert "too large to name anything" in response.get_data(as_text=True), (method, path)


def test_the_largest_row_id_still_reaches_the_view(app: Any, client: Any) -> None:
    response = client.get(f"/avatars/nobody/{MAX_ROW_ID}/64.jpg")
    assert response.status_code == 404
