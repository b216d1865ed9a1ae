"""Sentiment adapters: VADER over a dated headlines file; an LLM endpoint faked on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import polars as pl
import pytest

import workbench as wb
from workbench._warnings import WorkbenchWarning
from workbench.backtesting.engine import prepare_bars
from workbench.errors import DataValidationError
from workbench.ml.sentiment import Headlines, LexiconSentiment, LLMSentiment


@pytest.fixture
def view():
    return prepare_bars(wb.data.synthetic(10, seed=1))[1]


def _write(tmp_path, rows):
    p = tmp_path / "news.csv"
    pl.DataFrame({"date": [str(d) for d, _ in rows], "text": [t for _, t in rows]}).write_csv(p)
    return p


def test_lexicon_scores_land_on_the_first_bar_of_their_day(tmp_path, view):
    days = view.ts.astype("datetime64[D]")
    p = _write(tmp_path, [(days[2], "Record profits, shares soar"), (days[2], "great results"),
                          (days[5], "Fraud scandal, shares collapse")])
    sent = LexiconSentiment(Headlines.read(p)).scores(view)[:, 0]
    assert sent[2] > 0.3 and sent[5] < -0.3
    assert (np.delete(sent, [2, 5]) == 0.0).all()


def test_a_headline_file_with_a_bad_date_names_the_row(tmp_path):
    p = _write(tmp_path, [("2024-01-02", "fine"), ("2024-13-45", "bad month")])
    with pytest.raises(DataValidationError, match=r"`date` in row 2 is '2024-13-45'"):
        Headlines.read(p)
    with pytest.raises(DataValidationError, match="lacks column"):
        Headlines.from_frame(pl.DataFrame({"day": ["2024-01-01"], "text": ["x"]}))


class _Fake(BaseHTTPRequestHandler):
    replies: list = []

    def do_POST(self):  # noqa: N802 - the handler's API
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append((self.headers["Authorization"], body["messages"][0]["content"]))
        kind = type(self).replies.pop(0)
        if kind == "slow":
            time.sleep(1.0)
            kind = "0.5"
        if kind == "429":
            self.send_response(429)
            self.end_headers()
            return
        payload = {"choices": [{"message": {"content": kind}}]} if kind != "junk" else {"nope": 1}
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Fake.seen = []
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Fake)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    th.join(5)


def test_llm_adapter_parses_caches_and_falls_back_to_neutral(server, tmp_path):
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    _Fake.replies = ["0.8", "-0.4", "429", "junk", "I think it is great", "slow"]
    llm = LLMSentiment(url, api_key="k1", timeout=0.3, cache_path=tmp_path / "cache.json")
    assert llm.score(["up", "down"]).tolist() == [0.8, -0.4]
    assert _Fake.seen[0][0] == "Bearer k1" and _Fake.seen[0][1].endswith("Headline: up")
    with pytest.warns(WorkbenchWarning, match="quota or rate limit"):
        assert llm.score(["a"]).tolist() == [0.0]
    with pytest.warns(WorkbenchWarning, match="not a chat completion"):
        assert llm.score(["b"]).tolist() == [0.0]
    with pytest.warns(WorkbenchWarning, match="unparsable answer"):
        assert llm.score(["c"]).tolist() == [0.0]
    with pytest.warns(WorkbenchWarning, match="within 0.3 s"):
        assert llm.score(["d"]).tolist() == [0.0]
    n = len(_Fake.seen)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert llm.score(["up", "down"]).tolist() == [0.8, -0.4]  # cached: no request
    again = LLMSentiment(url, api_key="k1", cache_path=tmp_path / "cache.json")
    assert again.score(["down"]).tolist() == [-0.4] and len(_Fake.seen) == n
