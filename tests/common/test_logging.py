"""JSON log lines carry the request id of the request they were written in."""

import json
import logging

from services.common.context import reset_request_id, set_request_id
from services.common.observability import JsonFormatter


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
