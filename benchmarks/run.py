"""novajoin benchmarks (issue 8): ``bash benchmarks/run.sh`` (or ``python -m benchmarks.run``).

Starts a throwaway KDC, the IPA simulator (with injected per-call latency and a cap on
concurrent IPA calls, like a real IPA server's worker pool), ``--servers`` novajoin-server
processes and novajoin-notify on a throwaway RabbitMQ vhost; then measures

1. IPA round trips per enrollment (first request, repeat) and per delete, from the
   simulator's call log, beside the minimum possible;
2. boot storms at 1, 50 and 200 concurrent instances with nova's pattern (config drive x6,
   then metadata x1 per instance), vendordata latency p50/p95/p99 and throughput, beside the
   IPA-bound limit: the same necessary IPA calls alone (host_show + host_add, then nothing
   for the repeats that reach the process that answered, within its repeat window, and one
   host_show for the metadata call that reaches another) made with novajoin's own
   IPAClient at the same concurrency, same simulator, same latency and cap;
3. the drain time of 1,000 deletes through RabbitMQ beside its limit (host_find + host_del
   per instance at the listener's concurrency) and beside novajoin's own delete called
   directly (no RabbitMQ), every phase against the same number of hosts;
4. novajoin's own CPU per request with zero injected latency (utime+stime of the server
   processes over the run) and peak memory per server process (VmHWM).
5. unless ``--skip-window-off``: round trips, boot storms (against their own limit, which
   then reads every repeat) and own cost again with ``repeat_cache_seconds = 0``.

The load is raw httpx (asyncio) with nova's exact headers and body: nova's own client costs
several ms of CPU per call, which on 2 cores would be measured as novajoin's latency.
Prints a table, writes ``benchmarks/results/results.json`` and ``.../benchmarks.png``
(``--docs`` also copies the plot to docs/benchmarks.png).  Everything targets 127.0.0.1,
every loop is bounded in count and time, and the whole run takes a few minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from benchmarks.rig import Rig, cpu_seconds, peak_rss_mb, rig
from novajoin.ipa import errors as ipa_errors
from novajoin.join.hosts import search_term
from novajoin.join.marker import Marker
from novajoin.join.otp import new_nonce
from novajoin.testing.nova_vendordata import NOVA_HEADERS, make_instance, nova_body

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "results"
CONFIG_DRIVE_CALLS = 6
METADATA_CALLS = 1
WRITES = {"host_add", "host_mod", "host_del", "host_disable"}
LEVEL_DEADLINE = 120.0  # seconds per measured phase: every phase stops by itself
PROJECT = "4f1bd8c2b56d4b6e9d4e0c5f33a1c0de"


@dataclass
class Level:
    """One boot-storm measurement (novajoin or its IPA-bound limit)."""

    who: str
    concurrency: int
    instances: int
    requests: int = 0
    seconds: float = 0.0
    errors: int = 0
    latencies: list[float] = field(default_factory=list, repr=False)
    ipa_calls: int = 0

    def pct(self, q: float) -> float:
        data = sorted(self.latencies)
        if not data:
            return float("nan")
        return data[min(len(data) - 1, max(0, round(q / 100 * len(data)) - 1))] * 1000

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def summary(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k != "latencies"}
        out.update(p50_ms=self.pct(50), p95_ms=self.pct(95), p99_ms=self.pct(99),
                   mean_ms=statistics.fmean(self.latencies) * 1000 if self.latencies else 0,
                   throughput_rps=self.throughput)
        return out


# --------------------------------------------------------------------- load: novajoin

def replica(index: int, request: int, replicas: int) -> int:
    """Which server the balancer picks for request ``request`` (0-based) of instance ``index``.

    Source affinity (docs/ha.md): nova builds the config drive on the instance's compute
    node, so its 6 calls reach one replica; the metadata call comes later from the
    metadata API's host, modelled as the next replica (the worst case: it does not
    remember the instance).
    """
    return (index + (request >= CONFIG_DRIVE_CALLS)) % replicas


class _Connection:
    """One keep-alive HTTP/1.1 connection speaking just what nova's requests need.

    The load generator is one Python process on the same 2 cores as everything else:
    httpx's AsyncClient spends ~5.5 ms of CPU per request, which capped the storms at
    ~180 requests/s with novajoin answering from memory or asking nothing at all.  This
    writes nova's exact request bytes and reads the status line, headers and
    Content-Length body (~10x less CPU), so the storms measure novajoin and IPA.
    """

    def __init__(self, url: str) -> None:
        parsed = httpx.URL(url)
        self.host, self.port, self.path = parsed.host, parsed.port or 80, parsed.raw_path
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    def request_bytes(self, body: bytes) -> bytes:
        head = [f"POST {self.path.decode()} HTTP/1.1", f"Host: {self.host}:{self.port}",
                *(f"{k}: {v}" for k, v in NOVA_HEADERS.items()),
                f"Content-Length: {len(body)}", "", ""]
        return "\r\n".join(head).encode() + body

    async def post(self, payload: bytes) -> tuple[int, bytes]:
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        try:
            writer.write(payload)
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            length, close = 0, False
            for line in lines[1:]:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                if name == "content-length":
                    length = int(value)
                elif name == "connection" and value.strip().lower() == "close":
                    close = True
            body = await reader.readexactly(length)
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            self.close()
            raise
        if close:
            self.close()
        return status, body

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


async def _storm(targets: list[str], instances: list[Any], concurrency: int,
                 pattern: int) -> Level:
    """``concurrency`` instances at a time, each asking ``pattern`` times in a row."""
    level = Level("novajoin", concurrency, len(instances))
    queue: asyncio.Queue[Any] = asyncio.Queue()
    for item in enumerate(instances):
        queue.put_nowait(item)

    async def worker() -> None:
        # Each concurrent instance is a nova worker with its own connection per replica.
        connections = [_Connection(url) for url in targets]
        try:
            while True:
                try:
                    index, inst = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                body = json.dumps(nova_body(inst)).encode()
                for request in range(pattern):
                    conn = connections[replica(index, request, len(targets))]
                    payload = conn.request_bytes(body)
                    began = time.perf_counter()
                    try:
                        status, answer = await conn.post(payload)
                        ok = status == 200 and b'"ipaotp"' in answer
                    except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                        ok = False
                    level.latencies.append(time.perf_counter() - began)
                    level.requests += 1
                    level.errors += not ok
        finally:
            for conn in connections:
                conn.close()

    began = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(concurrency))),
                           LEVEL_DEADLINE)
    level.seconds = time.perf_counter() - began
    return level


def storm(rig_: Rig, tag: str, count: int, concurrency: int,
          pattern: int = CONFIG_DRIVE_CALLS + METADATA_CALLS) -> Level:
    instances = [make_instance(f"{tag}-{i:04d}", project_id=PROJECT) for i in range(count)]
    since = rig_.ipa.admin.last_call_seq()
    level = asyncio.run(_storm(rig_.targets, instances, concurrency, pattern))
    level.ipa_calls = len(rig_.ipa.admin.calls(since))
    level.instances_list = instances  # type: ignore[attr-defined]
    return level


# ------------------------------------------------------------ load: the IPA-bound limit

def limit_storm(rig_: Rig, tag: str, count: int, concurrency: int, *,
                window: bool, replicas: int) -> Level:
    """The necessary IPA calls alone, with novajoin's IPAClient, ``concurrency`` threads.

    First request: host_show (NotFound) + host_add.  A repeat: nothing when it reaches the
    process that answered within its repeat window (``window``), else one host_show (the
    metadata call on another replica, or every repeat without the window).
    """
    level = Level("ipa-limit", concurrency, count)
    lock = threading.Lock()
    domain = rig_.ipa.domain
    names = iter(range(count))
    client = rig_.ipa.ipa_client(concurrency)
    client.call("ping")  # log in outside the measurement, as the warm servers have
    stop_at = time.monotonic() + LEVEL_DEADLINE

    def record(began: float, ok: bool) -> None:
        with lock:
            level.latencies.append(time.perf_counter() - began)
            level.requests += 1
            level.errors += not ok

    def worker() -> None:
        while time.monotonic() < stop_at:
            with lock:
                index = next(names, None)
            if index is None:
                return
            fqdn = f"{tag}-{index:04d}.{domain}"
            marker = Marker(str(uuid.uuid4()), PROJECT, new_nonce())
            began = time.perf_counter()
            ok = True
            try:
                try:
                    client.call("host_show", fqdn, no_members=True)
                except ipa_errors.NotFound:
                    client.call("host_add", fqdn, description=marker.format(),
                                userpassword=uuid.uuid4().hex, force=True,
                                nshardwareplatform="OpenStack", no_members=True)
            except ipa_errors.IPAClientError:
                ok = False
            record(began, ok)
            for request in range(1, CONFIG_DRIVE_CALLS + METADATA_CALLS):
                began = time.perf_counter()
                ok = True
                if not window or replica(0, request, replicas) != replica(0, 0, replicas):
                    try:
                        client.call("host_show", fqdn, no_members=True)
                    except ipa_errors.IPAClientError:
                        ok = False
                record(began, ok)

    since = rig_.ipa.admin.last_call_seq()
    began = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(LEVEL_DEADLINE + 10)
    level.seconds = time.perf_counter() - began
    client.close()
    level.ipa_calls = len(rig_.ipa.admin.calls(since))
    return level


# ----------------------------------------------------------------------- round trips

def round_trips(rig_: Rig, samples: int = 5, tag: str = "rt") -> dict[str, Any]:
    """Calls and writes per first request / repeat, from the simulator's call log."""
    admin = rig_.ipa.admin
    first: list[Counter[str]] = []
    repeat: list[Counter[str]] = []
    elsewhere: list[Counter[str]] = []
    targets = rig_.targets
    with httpx.Client(timeout=30.0, trust_env=False) as client:
        for i in range(samples):
            inst = make_instance(f"{tag}-{i:02d}", project_id=PROJECT)
            body = nova_body(inst)
            # first request, a repeat on the same process, a repeat on another process
            for bucket, where in ((first, i), (repeat, i), (elsewhere, i + 1)):
                if bucket is elsewhere and len(targets) < 2:
                    continue
                since = admin.last_call_seq()
                client.post(targets[where % len(targets)], json=body,
                            headers=NOVA_HEADERS).raise_for_status()
                bucket.append(Counter(c["method"].partition("/")[0] for c in admin.calls(since)))

    def mean(bucket: list[Counter[str]], only: set[str] | None = None) -> float:
        return statistics.fmean(sum(v for k, v in c.items() if only is None or k in only)
                                for c in bucket)

    out = {
        "first_calls": mean(first), "first_writes": mean(first, WRITES),
        "repeat_calls": mean(repeat), "repeat_writes": mean(repeat, WRITES),
        "first_methods": dict(first[0]), "repeat_methods": dict(repeat[0]),
    }
    if elsewhere:
        out.update(elsewhere_calls=mean(elsewhere), elsewhere_writes=mean(elsewhere, WRITES))
    return out


# --------------------------------------------------------------------- delete storm

def delete_storm(rig_: Rig, count: int, cap: int, latency: float,
                 threads: int) -> dict[str, Any]:
    """1,000 deletes through RabbitMQ vs host_find + host_del alone at the same concurrency."""
    from novajoin.testing import rabbit
    from novajoin.testing.notifications import Instance as NotifiedInstance
    from novajoin.testing.notifications import NovaPublisher
    from novajoin.testing.novajoin_notify import NovajoinNotify, notify_overrides

    admin = rig_.ipa.admin
    admin.reset()
    # Hosts to delete, created through novajoin itself at zero latency (first requests
    # only): one set per phase, all created up front, and each finished phase is topped
    # up with as many other hosts as it deleted, so that every phase starts against the
    # same number of hosts (the simulator's searches scan them all).
    made = storm(rig_, "del", count, 50, pattern=1)
    direct_made = storm(rig_, "ddir", count, 50, pattern=1)
    limit_made = storm(rig_, "dlim", count, 50, pattern=1)
    if made.errors or direct_made.errors or limit_made.errors:
        raise RuntimeError(f"creating hosts for the delete storm failed: "
                           f"{made.errors + direct_made.errors + limit_made.errors} errors")

    def top_up(tag: str) -> None:
        admin.set_latency(0.0, max_concurrent=0)
        if storm(rig_, tag, count, 50, pattern=1).errors:
            raise RuntimeError("creating filler hosts for the delete storm failed")
        admin.set_latency(latency, max_concurrent=cap)

    admin.set_latency(latency, max_concurrent=cap)

    rabbit.ensure_rabbitmq()
    result: dict[str, Any] = {"deletes": count, "listener_threads": threads}
    with rabbit.Vhost() as vhost:
        overrides = notify_overrides(rig_.fake(), vhost.transport_url,
                                     executor_threads=threads)
        overrides["DEFAULT"]["otp_key_file"] = rig_.otp_key
        listener = NovajoinNotify(rig_.workdir / "notify", overrides).start()
        try:
            assert listener.process is not None
            pid = listener.process.pid
            # Fill the queue while the listener is paused, so that publishing is not measured.
            os.kill(pid, signal.SIGSTOP)
            try:
                with NovaPublisher(vhost.transport_url) as publisher:
                    for inst in made.instances_list:  # type: ignore[attr-defined]
                        # delete.start + delete.end, as nova sends them, on one topic.
                        publisher.instance_deleted(NotifiedInstance(
                            uuid=inst.uuid, hostname=inst.hostname, project_id=PROJECT))
                result["messages"] = 2 * count
            finally:
                since = admin.last_call_seq()
                cpu0 = cpu_seconds(pid)
                began = time.time()
                os.kill(pid, signal.SIGCONT)
            deleted, calls, last = 0, Counter[str](), began
            deadline = time.monotonic() + LEVEL_DEADLINE
            while deleted < count and time.monotonic() < deadline:
                time.sleep(0.5)
                batch = admin.calls(since)
                if batch:
                    since = batch[-1]["seq"]
                for entry in batch:
                    method = (entry["method"] or "").partition("/")[0]
                    calls[method] += 1
                    if method == "batch":
                        for item in (entry.get("params") or [[]])[0] or []:
                            if str(item.get("method", "")).startswith("host_del"):
                                deleted += 1
                    elif method == "host_del" and entry["outcome"] == "ok":
                        deleted += 1
                    last = max(last, entry["time"])
            result.update(drain_s=last - began, deleted=deleted,
                          round_trips=sum(calls.values()) / count, methods=dict(calls),
                          notify_cpu_s=cpu_seconds(pid) - cpu0,
                          notify_peak_mb=peak_rss_mb(pid))
        finally:
            listener.stop()

    client = rig_.ipa.ipa_client(threads)
    client.call("ping")
    domain = rig_.ipa.domain

    def run_all(instances: list[Any], delete_one: Any) -> float:
        todo = iter(instances)
        lock = threading.Lock()

        def worker() -> None:
            while True:
                with lock:
                    inst = next(todo, None)
                if inst is None:
                    return
                delete_one(inst)

        began_p = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            for future in [pool.submit(worker) for _ in range(threads)]:
                future.result(timeout=LEVEL_DEADLINE)
        return time.perf_counter() - began_p

    # Diagnostic: novajoin's own delete (InstanceLifecycle, all its reads and writes)
    # called directly from as many threads, without RabbitMQ: drain minus this is the
    # listener's share, this minus the limit is the extra IPA work of a delete.
    from novajoin.join.lifecycle import InstanceLifecycle
    from novajoin.join.model import JoinSettings

    top_up("dfil1")
    lifecycle = InstanceLifecycle(client, JoinSettings(domain=domain, realm=rig_.ipa.realm),
                                  deadline=LEVEL_DEADLINE)
    since = admin.last_call_seq()
    result["direct_s"] = run_all(
        direct_made.instances_list,  # type: ignore[attr-defined]
        lambda inst: lifecycle.instance_deleted(inst.uuid))
    result["direct_round_trips"] = len(admin.calls(since)) / count

    # The limit: host_find by ownership, then host_del, nothing else.
    top_up("dfil2")

    def bare_delete(inst: Any) -> None:
        client.call("host_find", search_term(inst.uuid), no_members=True)
        client.call("host_del", f"{inst.hostname}.{domain}", updatedns=True)

    result["limit_s"] = run_all(limit_made.instances_list,  # type: ignore[attr-defined]
                                bare_delete)
    client.close()
    result["limit_round_trips"] = 2
    result["ratio"] = result["drain_s"] / result["limit_s"]
    result["direct_ratio"] = result["direct_s"] / result["limit_s"]
    admin.set_latency(0.0, max_concurrent=0)
    return result


# --------------------------------------------------------------------- CPU / memory

def own_cost(rig_: Rig, count: int, concurrency: int) -> dict[str, Any]:
    """Server CPU per vendordata request with zero IPA latency."""
    rig_.ipa.admin.set_latency(0.0, max_concurrent=0)
    before = {pid: cpu_seconds(pid) for pid in rig_.server_pids}
    level = storm(rig_, "cpu", count, concurrency)
    cpu = sum(cpu_seconds(pid) - before[pid] for pid in rig_.server_pids)
    return {"requests": level.requests, "errors": level.errors, "seconds": level.seconds,
            "server_cpu_s": cpu, "ms_per_request": cpu / level.requests * 1000,
            "requests_per_core_s": level.requests / cpu if cpu else 0.0,
            "throughput_rps": level.throughput}


def boot_storms(rig_: Rig, args: Any, levels: list[tuple[int, ...]], *, window: bool,
                tag: str) -> list[dict[str, Any]]:
    """novajoin and its IPA-bound limit at each (concurrency, instances) level."""
    rows = []
    for concurrency, count in levels:
        nj = storm(rig_, f"{tag}{concurrency}", count, concurrency)
        lim = limit_storm(rig_, f"{tag}l{concurrency}", count, concurrency, window=window,
                          replicas=args.servers)
        rows.append({"concurrency": concurrency, "novajoin": nj.summary(),
                     "ipa-limit": lim.summary(), "p99_ratio": nj.pct(99) / lim.pct(99)})
        print(f"  {concurrency:3d} concurrent: novajoin p99 {nj.pct(99):.1f} ms, "
              f"limit p99 {lim.pct(99):.1f} ms, errors {nj.errors}/{lim.errors}", flush=True)
    return rows


def window_off_run(rig_: Rig, args: Any, levels: list[tuple[int, ...]]) -> dict[str, Any]:
    """The enrollment measurements again with ``repeat_cache_seconds = 0``: every repeat
    is read from IPA (and so is the limit's)."""
    rig_.ipa.admin.set_latency(0.0, max_concurrent=0)
    rig_.start_servers(args.servers, repeat_cache_seconds=0)
    out: dict[str, Any] = {"round_trips": round_trips(rig_, tag="wo")}
    rig_.ipa.admin.set_latency(args.latency, max_concurrent=args.cap)
    out["levels"] = boot_storms(rig_, args, levels, window=False, tag="wo")
    out["own_cost"] = own_cost(rig_, args.cost_instances, 50)
    out["server_peak_mb"] = [peak_rss_mb(pid) for pid in rig_.server_pids]
    print(f"  without the repeat window: {out['round_trips']}", flush=True)
    return out


# --------------------------------------------------------------------------- output

def machine() -> dict[str, Any]:
    model = ""
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with open("/proc/meminfo") as info:
        for line in info:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    return {"nproc": os.cpu_count(), "cpu": model, "memory_gb": round(mem_kb / 1024**2, 1),
            "python": platform.python_version(), "kernel": platform.release()}


def _storm_rows(levels: list[dict[str, Any]]) -> list[str]:
    lines = ["  conc  inst  who        req/s    p50 ms   p95 ms   p99 ms  errors  IPA calls"
             "  p99 ratio"]
    for row in levels:
        for who in ("novajoin", "ipa-limit"):
            s = row[who]
            ratio = f"{row['p99_ratio']:9.2f}x" if who == "novajoin" else ""
            lines.append(
                f"  {s['concurrency']:4d}  {s['instances']:4d}  {who:9s} {s['throughput_rps']:7.0f}"
                f"  {s['p50_ms']:7.1f}  {s['p95_ms']:7.1f}  {s['p99_ms']:7.1f}  {s['errors']:6d}"
                f"  {s['ipa_calls']:9d}  {ratio}")
    return lines


def _cost_line(cost: dict[str, Any]) -> str:
    return (f"own cost (0 ms IPA latency): {cost['ms_per_request']:.2f} ms server CPU per "
            f"request, {cost['requests_per_core_s']:.0f} requests/s per core "
            f"({cost['requests']} requests, {cost['errors']} errors)")


def table(results: dict[str, Any]) -> str:
    rt, d = results["round_trips"], results["delete"]
    lines = [
        f"machine: {results['machine']}",
        f"setup: {results['servers']} novajoin-server processes x {results['server_threads']} "
        f"threads; IPA simulator latency {results['latency_ms']:g} ms/call, at most "
        f"{results['cap']} IPA calls at once",
        "",
        "IPA round trips                    measured   minimum   target",
        f"  enrollment, first request        {rt['first_calls']:8.2f}   {2:7d}   "
        f"writes {rt['first_writes']:.2f} (<= 1)",
        f"  enrollment, repeat               {rt['repeat_calls']:8.2f}   {0:7d}   "
        f"0 calls in a short window; writes {rt['repeat_writes']:.2f}",
    ]
    if "elsewhere_calls" in rt:
        lines.append(f"    the same on another process    {rt['elsewhere_calls']:8.2f}   {1:7d}   "
                     f"writes {rt['elsewhere_writes']:.2f}")
    lines += [
        f"  delete (through RabbitMQ)        {d['round_trips']:8.2f}   {2:7d}",
        "",
        "boot storm (nova: config drive x6 + metadata x1 per instance; balancer: source",
        "affinity, the metadata call reaching the next replica)",
        *_storm_rows(results["levels"]),
        "",
        f"delete storm: {d['deletes']} deletes, listener {d['listener_threads']} threads: "
        f"drain {d['drain_s']:.2f} s, IPA-bound limit {d['limit_s']:.2f} s, "
        f"ratio {d['ratio']:.2f}x (deleted {d['deleted']})",
        f"  novajoin's delete called directly (no RabbitMQ, {d['listener_threads']} threads): "
        f"{d['direct_s']:.2f} s, {d['direct_ratio']:.2f}x the limit, "
        f"{d['direct_round_trips']:.2f} round trips per delete",
        f"  novajoin-notify: {d['notify_cpu_s'] / d['deletes'] * 1000:.2f} ms CPU per delete, "
        f"{d['messages']} messages consumed, {d['notify_peak_mb']:.0f} MB peak",
        _cost_line(results["own_cost"]),
        "peak memory per server process (VmHWM): "
        + ", ".join(f"{m:.0f} MB" for m in results["server_peak_mb"]),
    ]
    off = results.get("window_off")
    if off:
        ort = off["round_trips"]
        lines += [
            "",
            "without the repeat window (repeat_cache_seconds = 0; the limit reads every repeat):",
            f"  IPA calls per enrollment: first request {ort['first_calls']:.2f}, "
            f"repeat {ort['repeat_calls']:.2f} (writes {ort['first_writes']:.2f} / "
            f"{ort['repeat_writes']:.2f})",
            *_storm_rows(off["levels"]),
            "  " + _cost_line(off["own_cost"]),
            "  peak memory per server process: "
            + ", ".join(f"{m:.0f} MB" for m in off["server_peak_mb"]),
        ]
    lines.append(f"wall time: {results['wall_s']:.0f} s")
    return "\n".join(lines)


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2),
                                   gridspec_kw={"width_ratios": [3, 1]})
    width = 0.13
    levels = results["levels"]
    xs = range(len(levels))
    for j, (who, q) in enumerate((w, q) for w in ("novajoin", "ipa-limit")
                                 for q in ("p50", "p95", "p99")):
        vals = [row[who][f"{q}_ms"] for row in levels]
        ax1.bar([x + (j - 2.5) * width for x in xs], vals, width,
                label=f"{who} {q}", color=("C0" if who == "novajoin" else "C1"),
                alpha={"p50": 0.45, "p95": 0.7, "p99": 1.0}[q])
    ax1.set_xticks(list(xs), [f"{row['concurrency']} concurrent" for row in levels])
    ax1.set_ylabel("vendordata latency (ms)")
    ax1.set_yscale("log")
    ax1.set_title(f"boot storm, IPA {results['latency_ms']:g} ms/call, cap {results['cap']}")
    ax1.legend(fontsize=7, ncol=2)
    d = results["delete"]
    ax2.bar(["novajoin-notify", "IPA-bound limit"], [d["drain_s"], d["limit_s"]],
            color=["C0", "C1"])
    ax2.set_ylabel("seconds")
    ax2.set_title(f"drain of {d['deletes']} deletes")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ----------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks.run", description=__doc__.split("\n")[0])
    parser.add_argument("--servers", type=int, default=2, help="novajoin-server processes")
    parser.add_argument("--latency", type=float, default=0.020, help="IPA seconds per call")
    parser.add_argument("--cap", type=int, default=16, help="IPA calls served at once")
    parser.add_argument("--levels", default="1:10,50:100,200:400",
                        help="concurrency:instances,... of the boot storms")
    parser.add_argument("--deletes", type=int, default=1000)
    parser.add_argument("--listener-threads", type=int, default=16)
    parser.add_argument("--cost-instances", type=int, default=200)
    parser.add_argument("--skip-window-off", action="store_true",
                        help="do not measure again with repeat_cache_seconds = 0")
    parser.add_argument("--docs", action="store_true", help="also write docs/benchmarks.png")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    levels = [tuple(int(v) for v in part.split(":")) for part in args.levels.split(",")]

    started = time.perf_counter()
    results: dict[str, Any] = {
        "machine": machine(), "servers": args.servers, "server_threads": 32,
        "latency_ms": args.latency * 1000, "cap": args.cap, "command": " ".join(sys.argv),
    }
    print(f"benchmark: {args.servers} servers, IPA {args.latency * 1000:g} ms/call, cap "
          f"{args.cap}; boot storms (concurrency:instances) {args.levels}; "
          f"{args.deletes} deletes", flush=True)
    with rig(args.servers) as r:
        results["round_trips"] = round_trips(r)
        print(f"  round trips: {results['round_trips']}", flush=True)
        r.ipa.admin.set_latency(args.latency, max_concurrent=args.cap)
        results["levels"] = boot_storms(r, args, levels, window=True, tag="c")
        results["own_cost"] = own_cost(r, args.cost_instances, 50)
        print(f"  own cost: {results['own_cost']}", flush=True)
        results["delete"] = delete_storm(r, args.deletes, args.cap, args.latency,
                                         args.listener_threads)
        print(f"  delete storm: drain {results['delete']['drain_s']:.2f} s", flush=True)
        results["server_peak_mb"] = [peak_rss_mb(pid) for pid in r.server_pids]
        if not args.skip_window_off:
            results["window_off"] = window_off_run(r, args, levels)
    results["wall_s"] = time.perf_counter() - started
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    try:
        plot(results, out / "benchmarks.png")
        if args.docs:
            shutil.copy(out / "benchmarks.png", ROOT / "docs" / "benchmarks.png")
    except ImportError:
        print("matplotlib missing: no plot (pip install -e '.[bench]')", file=sys.stderr)
    print()
    print(table(results))
    print(f"\nwrote {out / 'results.json'} and {out / 'benchmarks.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
