"""One contract for the pub/sub behind live push: in-process and Redis."""

from __future__ import annotations

import queue

import pytest

from realtime.bus import InProcessBus, RedisBus


class BusContract:
    def test_every_subscriber_gets_each_message_in_order(self, bus) -> None:
        a: queue.Queue = queue.Queue()
        b: queue.Queue = queue.Queue()
        bus.subscribe(a.put)
        bus.subscribe(b.put)
        for i in range(20):
            bus.publish({"seq": i, "area": "3303"})
        for q in (a, b):
            assert [q.get(timeout=5)["seq"] for _ in range(20)] == list(range(20))

    def test_unsubscribe_stops_delivery(self, bus) -> None:
        got: queue.Queue = queue.Queue()
        other: queue.Queue = queue.Queue()
        stop = bus.subscribe(got.put)
        bus.subscribe(other.put)
        stop()
        bus.publish({"seq": 1})
        assert other.get(timeout=5) == {"seq": 1}
        assert got.empty()

    def test_a_failing_subscriber_does_not_starve_others(self, bus) -> None:
        got: queue.Queue = queue.Queue()

        def broken(_msg: dict) -> None:
            raise RuntimeError("boom")

        bus.subscribe(broken)
        bus.subscribe(got.put)
        bus.publish({"seq": 7})
        assert got.get(timeout=5) == {"seq": 7}


class TestInProcessBus(BusContract):
    @pytest.fixture
    def bus(self):
        b = InProcessBus()
        yield b
        b.close()


@pytest.mark.redis
class TestRedisBus(BusContract):
    @pytest.fixture
    def bus(self, redis_url, request):
        b = RedisBus(redis_url, channel=f"test:{request.node.name}")
        assert b.connected.wait(5)
        yield b
        b.close()

    def test_a_publish_only_process_reaches_listeners(self, redis_url) -> None:
        """A Celery worker or replay publishes without listening; servers deliver."""
        listener = RedisBus(redis_url, channel="test:cross")
        assert listener.connected.wait(5)
        writer = RedisBus(redis_url, channel="test:cross", listen=False)
        got: queue.Queue = queue.Queue()
        listener.subscribe(got.put)
        try:
            import time

            deadline = time.monotonic() + 5
            while got.empty() and time.monotonic() < deadline:
                writer.publish({"seq": 42})
                time.sleep(0.1)
            assert got.get(timeout=5) == {"seq": 42}
        finally:
            writer.close()
            listener.close()


@pytest.mark.redis
def test_a_bus_started_while_redis_is_away_connects_when_it_comes(tmp_path) -> None:
    """A server may start before Redis; the listener keeps trying and then rings."""
    import shutil
    import subprocess

    from tests.conftest import free_port, stop_process, wait_for_port

    port = free_port()
    bus = RedisBus(f"redis://127.0.0.1:{port}/0", channel="test:late")
    got: queue.Queue = queue.Queue()
    bus.subscribe(got.put)
    assert not bus.connected.wait(1.5)
    proc = subprocess.Popen([shutil.which("redis-server"), "--port", str(port), "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        assert bus.connected.wait(10)
        bus.publish({"seq": 5})
        assert got.get(timeout=5) == {"seq": 5}
    finally:
        bus.close()
        stop_process(proc)
