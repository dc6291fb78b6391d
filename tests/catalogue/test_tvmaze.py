import httpx
import pytest

from catalogue import tvmaze
from catalogue.tvmaze import Client, RateLimit, TVmazeNotFound, TVmazeUnavailable


def client(**kwargs) -> Client:
    return Client(sleep=lambda seconds: None, **kwargs)


def test_it_searches_shows_by_title(recorded):
    results = client().search_shows("True Detective")
    assert [r["show"]["name"] for r in results] == ["True Detective"]
    assert recorded.requests[0].url.params["q"] == "True Detective"


def test_it_reads_a_show_with_its_episodes_and_cast(recorded):
    show = client().show(5)
    assert show["externals"]["thetvdb"] == 270633
    assert len(show["_embedded"]["episodes"]) == 8
    assert [c["character"]["name"] for c in show["_embedded"]["cast"]][:2] == [
        "Rustin Cohle",
        "Martin Hart",
    ]


def test_it_asks_for_specials_in_the_episode_list(recorded):
    episodes = client().episodes(5)
    assert any(e["type"] != "regular" for e in episodes)
    assert recorded.requests[0].url.params["specials"] == "1"


def test_it_sends_a_user_agent_naming_the_site(recorded):
    client().images(1)
    assert recorded.requests[0].headers["User-Agent"].startswith("Spoilerfree/")


def test_a_missing_show_is_not_found():
    with pytest.raises(TVmazeNotFound):
        client().show(999999)


def test_it_retries_a_server_error_with_growing_waits(monkeypatch):
    answers = iter([httpx.Response(503), httpx.Response(502), httpx.Response(200, json=[])])
    waits: list[float] = []
    transport = httpx.MockTransport(lambda request: next(answers))
    assert Client(transport=transport, sleep=waits.append).images(1) == []
    assert waits == [1.0, 2.0]


def test_it_retries_when_told_to_slow_down():
    answers = iter([httpx.Response(429), httpx.Response(200, json=[])])
    transport = httpx.MockTransport(lambda request: next(answers))
    assert client(transport=transport).images(1) == []


def test_it_gives_up_with_a_message_an_editor_can_act_on():
    def down(request):
        raise httpx.ConnectError("Name or service not known", request=request)

    with pytest.raises(TVmazeUnavailable, match="could not be reached.*4 tries.*Try again"):
        client(transport=httpx.MockTransport(down)).search_shows("Severance")


def test_a_timeout_is_unavailable_too():
    def slow(request):
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(TVmazeUnavailable, match="did not answer in time"):
        client(transport=httpx.MockTransport(slow), retries=1).search_shows("Severance")


def test_an_answer_that_is_not_json_is_unavailable():
    transport = httpx.MockTransport(lambda request: httpx.Response(200, text="<html>"))
    with pytest.raises(TVmazeUnavailable, match="not JSON"):
        client(transport=transport).search_shows("Severance")


class FakeClock:
    def __init__(self):
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_rate_limit_lets_twenty_calls_through_in_ten_seconds_then_waits():
    clock = FakeClock()
    limit = RateLimit(clock=clock, sleep=clock.sleep)
    for _ in range(20):
        limit.wait()
        clock.now += 0.1
    assert clock.slept == []
    limit.wait()
    # The first call was at 1000.0; the 21st may go at 1010.0, 8 s after "now" (1002.0).
    assert clock.slept == [pytest.approx(8.0)]


def test_the_rate_limit_never_lets_more_than_twenty_into_any_ten_seconds():
    clock = FakeClock()
    limit = RateLimit(clock=clock, sleep=clock.sleep)
    sent = []
    for _ in range(65):
        limit.wait()
        sent.append(clock.now)
        clock.now += 0.05
    for i, start in enumerate(sent):
        assert len([t for t in sent[i:] if t < start + 10]) <= 20


def test_no_test_reaches_the_network():
    # The autouse fixture's transport answers from the recordings, never from TVmaze.
    assert isinstance(tvmaze.TRANSPORT, httpx.MockTransport)
