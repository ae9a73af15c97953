"""JSON log lines carry the request id of the request they were written in, and no token."""

import json
import logging
import uuid

import pytest

from services.common.context import reset_request_id, set_request_id
from services.common.observability import JsonFormatter, redact_path
from tests.conftest import Stack


def test_log_lines_are_json_with_the_request_id() -> None:
    token = set_request_id("req-77")
    try:
        record = logging.LogRecord("telemed.test", logging.INFO, __file__, 1, "hello %s", ("x",),
                                   None)  # fmt: skip
        record.status = 201
        line = json.loads(JsonFormatter().format(record))
    finally:
        reset_request_id(token)
    assert line["message"] == "hello x"
    assert line["request_id"] == "req-77"
    assert line["status"] == 201
    assert line["level"] == "INFO"


async def test_tokens_in_urls_are_not_logged(
    stack: Stack, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The join page's and the files' links carry bearer tokens in their paths, the join
    page's event stream in its query: our request log lines (gateway and services) and
    uvicorn's access log, where someone turns it on, show `[redacted]` instead."""
    monkeypatch.setattr(logging.getLogger("uvicorn.access"), "disabled", False)
    caplog.set_level(logging.INFO)
    join, link, stream = (f"secret{uuid.uuid4().hex}" for _ in range(3))
    for path in (
        f"/join/{join}",
        f"/api/files/links/{link}",
        f"/api/video/rooms/{uuid.uuid4()}/events?token={stream}",
    ):
        response = await stack.client.get(path)
        assert response.status_code in {401, 404}, path
    lines = [JsonFormatter().format(record) for record in caplog.records]
    for token in (join, link, stream):
        assert not [line for line in lines if token in line]
    paths = {getattr(record, "path", None) for record in caplog.records}
    assert {"/join/[redacted]", "/api/files/links/[redacted]"} <= paths
    access = [record.getMessage() for record in caplog.records if record.name == "uvicorn.access"]
    assert any("/api/files/links/[redacted]" in line for line in access), access
    assert any("?token=[redacted]" in line for line in access), access


def test_redact_path_leaves_other_paths_alone() -> None:
    assert redact_path("/api/consult/cases/42") == "/api/consult/cases/42"
    assert redact_path("/join/abc.def?lang=ru") == "/join/[redacted]?lang=ru"
    assert redact_path("http://files:8002/api/files/links/x.y") == (
        "http://files:8002/api/files/links/[redacted]"
    )
