import io
import json
import logging

from autotrader.core.logging import configure


def _capture(fmt: str = "json", secrets=()):
    stream = io.StringIO()
    configure(level="DEBUG", fmt=fmt, secrets=secrets, stream=stream)
    return logging.getLogger("autotrader.test"), stream


def test_known_secret_values_are_redacted_from_messages_and_arguments():
    log, stream = _capture(secrets=["hunter2-very-secret"])
    log.info("connecting with %s", "hunter2-very-secret")
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert "hunter2" not in stream.getvalue()
    assert line["message"] == "connecting with ***"


def test_token_shaped_strings_are_redacted_even_when_unknown():
    log, stream = _capture()
    log.warning("headers: Authorization: Bearer abcdefghijklmnop, key sk-proj-ABCDEFGHIJKL")
    log.warning('payload {"api_key": "plaintext-value"}')
    text = stream.getvalue()
    assert "abcdefghijklmnop" not in text
    assert "ABCDEFGHIJKL" not in text
    assert "plaintext-value" not in text


def test_words_that_merely_contain_sk_dash_are_not_taken_for_keys():
    log, stream = _capture()
    log.warning("desk-risk-calculator tick 1: a risk-adjusted size; key sk-proj-ABCDEFGHIJKL")
    message = json.loads(stream.getvalue().splitlines()[-1])["message"]
    assert message == "desk-risk-calculator tick 1: a risk-adjusted size; key ***"


def test_tracebacks_are_redacted_too():
    log, stream = _capture(secrets=["topsecretvalue"])
    try:
        raise RuntimeError("failed with topsecretvalue")
    except RuntimeError:
        log.exception("boom")
    assert "topsecretvalue" not in stream.getvalue()
    assert "RuntimeError" in stream.getvalue()


def test_json_lines_carry_time_level_logger_and_extras():
    log, stream = _capture()
    log.info("tick done", extra={"worker": "ingest", "rows": 3})
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["level"] == "INFO"
    assert line["logger"] == "autotrader.test"
    assert line["worker"] == "ingest"
    assert line["rows"] == 3
    assert line["time"].endswith("+00:00")
