"""The API page people can use (issue 19): for every operation a description, an example
request as curl and as Python, its answer, and every status with the shape of its body; the
examples true to the document's schemas; and the interactive reference on the same document.

``tests/live/test_docs_examples.py`` runs every example against a live server."""

from __future__ import annotations

import json
import re

import jsonschema_rs
import pytest
from markupsafe import escape

from tests.contract import bearer
from webapp.auth import CSP
from webapp.openapi.examples import EXAMPLES, VARIABLE
from webapp.templating import inline_code


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def document(app, client):
    return client.get("/docs/api/openapi.json").get_json()


@pytest.fixture
def page(client_as) -> str:
    response = client_as("viewer").get("/docs/api")
    assert response.status_code == 200
    return text(response)


def section(page: str, operation_id: str) -> str:
    found = re.search(rf'<section id="{operation_id}" class="api-op".*?</section>', page, re.S)
    assert found, operation_id
    return found[0]


def operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                yield path, method, operation


def validator(document: dict, schema: dict):
    """A JSON Schema validator for ``schema``, its $refs read from ``document``."""
    return jsonschema_rs.validator_for({**schema, "components": document["components"]})


def response_schema(document: dict, operation: dict, status: int) -> dict | None:
    response = operation["responses"][str(status)]
    if "content" not in response and "$ref" in response:
        response = document["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    content = response.get("content", {}).get("application/json")
    return content["schema"] if content else None


def test_every_operation_has_one_example(document):
    documented = {operation["operationId"] for _path, _method, operation in operations(document)}
    assert sorted(example.operation for example in EXAMPLES) == sorted(documented)


def test_every_operation_is_described_with_its_example_and_every_status(page, document):
    for path, method, operation in operations(document):
        shown = section(page, operation["operationId"])
        example = next(e for e in EXAMPLES if e.operation == operation["operationId"])
        assert f"<code>{method.upper()} {path}</code>" in shown
        assert operation.get("description"), operation["operationId"]
        assert str(inline_code(operation["description"])) in shown
        assert escape(example.curl()) in shown
        assert escape(example.python()) in shown
        assert f"<h4>Answer: {example.status}</h4>" in shown
        if example.response is not None:
            assert escape(example.response_text()) in shown
        statuses = re.findall(r"<tr><td><strong>(\d{3})</strong></td>", shown)
        assert statuses == list(operation["responses"]), operation["operationId"]


def test_each_status_names_the_shape_of_its_body(page):
    add = section(page, "addShare")
    rows = dict(re.findall(r"<tr><td><strong>(\d{3})</strong></td><td>.*?</td><td>(.*?)</td>", add))
    assert rows["201"] == '<code>{&#34;data&#34;: <a href="#schema-Share">Share</a>}</code>'
    assert rows["422"] == '<code><a href="#schema-Error">Error</a>, with errors</code>'
    assert rows["401"] == '<code><a href="#schema-Error">Error</a></code>'
    deleted = section(page, "deleteShare")
    assert "<td><strong>204</strong></td><td>Deleted; claims are kept.</td><td><code>no body" in (
        deleted
    )
    # Every schema a body names has its table of fields on the page.
    for name in set(re.findall(r'href="#schema-(\w+)"', page)):
        assert f'<section id="schema-{name}" class="api-schema"' in page
    share = re.search(r'<section id="schema-Share".*?</section>', page, re.S)[0]
    for field in ("id", "handle", "expires_at", "remaining_quantity", "created_at"):
        assert f"<td><code>{field}</code>" in share


def test_the_examples_answer_as_the_schemas_say(document):
    for path, method, operation in operations(document):
        example = next(e for e in EXAMPLES if e.operation == operation["operationId"])
        assert (example.method, VARIABLE.sub("{id}", example.path)) == (method.upper(), path)
        schema = response_schema(document, operation, example.status)
        if example.response is None:
            assert schema is None
            continue
        check = validator(document, schema)
        assert check.is_valid(example.response), [
            error.message for error in check.iter_errors(example.response)
        ]


def test_the_example_bodies_are_valid_requests(document):
    for _path, _method, operation in operations(document):
        example = next(e for e in EXAMPLES if e.operation == operation["operationId"])
        if "requestBody" not in operation:
            assert example.body is None
            continue
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        assert validator(document, schema).is_valid(example.body), example.operation
        # The document carries the same example, for the interactive reference.
        content = operation["requestBody"]["content"]["application/json"]
        assert content["example"] == example.body


def test_the_python_examples_are_python_and_the_curl_ones_use_the_shells_variables():
    for example in EXAMPLES:
        compile(example.python(), example.operation, "exec")
        assert '"$BASE' in example.curl() and "Bearer $TOKEN" in example.curl()
        for name in example.variables:
            assert f"${name}" in example.curl() and f"os.environ['{name}']" in example.python()
        if example.body is not None:
            sent = re.search(r"-d '(.*)'$", example.curl(), re.S)[1]
            assert json.loads(sent) == example.body


def test_the_reference_page_loads_the_vendored_viewer_under_the_strict_policy(client_as):
    response = client_as("viewer").get("/docs/api/reference")

    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == CSP
    page = text(response)
    for asset in (
        "/static/vendor/swagger-ui-bundle-5.35.0.js",
        "/static/vendor/swagger-ui-5.35.0.css",
        "/static/js/api-reference.js",
    ):
        assert asset in page
    assert 'data-spec-url="/docs/api/openapi.json"' in page
    assert "<script>" not in page and "https://" not in page.split("<main", 1)[1]
    # The viewer's files are served from here, as published.
    viewer = client_as("viewer").get("/static/vendor/swagger-ui-bundle-5.35.0.js")
    assert viewer.status_code == 200 and b"SwaggerUIBundle" in viewer.data


def test_the_page_offers_the_document_a_browser_can_open(page):
    """/api/v3/openapi.json takes only a bearer token: a browser gets the same from /docs."""
    assert '<a href="/docs/api/openapi.json" download="openapi.json">download' in page


def test_the_reference_reads_the_apis_own_document_with_a_session(app, client, token):
    for_people = client.get("/docs/api/openapi.json")
    for_scripts = app.test_client().get("/api/v3/openapi.json", headers=bearer(token))
    assert for_people.status_code == 200
    assert for_people.get_json() == for_scripts.get_json()
    assert app.test_client().get("/docs/api/openapi.json").status_code == 302  # sign in first
