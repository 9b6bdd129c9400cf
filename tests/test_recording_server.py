"""The recording server behind the Slack and LINE fakes: default answer, routes, fail_next, recording."""
from __future__ import annotations

import aiohttp
import pytest

from tests.support.recording_server import RecordingServer


async def test_every_request_is_recorded_parsed_and_answered_by_default():
    async with RecordingServer(default={"ok": True}) as server, aiohttp.ClientSession(server.origin) as http:
        response = await http.post("/v1/things?page=2", json={"name": "テスト", "tags": ["a"]},
                                   headers={"X-Key": "k1"})
        assert response.status == 200 and await response.json() == {"ok": True}
        await http.post("/v1/form", data={"channel": "C1", "text": "hi"})
        await http.get("/v1/things")

    [posted, _] = server.calls("/v1/things")
    assert posted.method == "POST" and posted.json == {"name": "テスト", "tags": ["a"]}
    assert posted.params == {"page": "2", "name": "テスト", "tags": ["a"]}
    assert posted.headers["x-key"] == "k1"  # header names are case-insensitive
    assert (posted.status, posted.answer, posted.rejected) == (200, {"ok": True}, None)
    assert server.calls("/v1/form")[0].params == {"channel": "C1", "text": "hi"}
    assert [c.method for c in server.calls()] == ["POST", "POST", "GET"]


async def test_fail_next_answers_the_failure_count_times_then_the_usual_answer():
    async with RecordingServer() as server, aiohttp.ClientSession(server.origin) as http:
        server.fail_next("/limited", 429, body={"error": "slow down"}, headers={"Retry-After": "3"}, count=2)
        server.fail_next("/broken")
        answers = []
        for path in ("/limited", "/other", "/limited", "/limited", "/broken", "/broken"):
            async with http.post(path) as response:
                answers.append((response.status, await response.json(), response.headers.get("Retry-After")))
    assert answers == [
        (429, {"error": "slow down"}, "3"), (200, {}, None), (429, {"error": "slow down"}, "3"), (200, {}, None),
        (500, {"status": 500}, None), (200, {}, None),
    ]
    assert len(server.calls("/limited")) == 3  # failed requests are recorded too


async def test_routes_match_method_and_placeholders_and_may_answer_a_status():
    server = RecordingServer()
    server.route("GET /users/{user_id}", lambda call: {"id": call.path_params["user_id"]})
    server.route("/missing", lambda call: (404, {"message": "Not found"}, {"X-Request-Id": "r1"}))
    async with server, aiohttp.ClientSession(server.origin) as http:
        assert await (await http.get("/users/U1")).json() == {"id": "U1"}
        assert await (await http.post("/users/U1")).json() == {}  # another method: the default answer
        assert await (await http.get("/users/U1/more")).json() == {}  # one segment only
        missing = await http.delete("/missing")
        assert missing.status == 404 and missing.headers["X-Request-Id"] == "r1"
    assert server.calls("/missing")[0].status == 404


async def test_a_rejected_payload_fails_the_test_when_the_server_stops():
    server = RecordingServer()
    server.route("/strict", lambda call: server.reject(call, "text too long", {"error": "invalid"}, 400)
                 if len(call.params.get("text", "")) > 3 else {"ok": True})
    server.route("/crash", lambda call: call.params["missing"])
    with pytest.raises(AssertionError, match=r"(?s)/strict: text too long.*/crash: RecordingServer failed on it"):
        async with server, aiohttp.ClientSession(server.origin) as http:
            assert (await http.post("/strict", json={"text": "ok"})).status == 200
            assert (await http.post("/strict", json={"text": "too long"})).status == 400
            assert (await http.post("/crash", json={})).status == 500
    assert [c.path for c in server.rejected()] == ["/strict", "/crash"]

    lenient = RecordingServer(strict=False)
    lenient.route("/strict", lambda call: lenient.reject(call, "refused", {}, 400))
    async with lenient, aiohttp.ClientSession(lenient.origin) as http:
        await http.post("/strict")
    assert lenient.rejected()[0].rejected == "refused"
