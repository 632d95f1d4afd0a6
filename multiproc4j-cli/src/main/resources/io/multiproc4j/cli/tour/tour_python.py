"""Python's side of `multiproc tour --compare-python` (io.multiproc4j.cli.tour.PythonFigures runs it).

Arguments: SECTION:KEY=VALUE parameters (the Java side's sizes, so both sides measure the same thing).
Prints `version X.Y.Z`, then `value SECTION KEY NUMBER` per figure, and `error SECTION MESSAGE` for a
section that failed (the others go on). Times are medians of `reps` timed runs after one warm-up.
The workloads mirror io.multiproc4j.bench.Workloads.
"""
import multiprocessing as mp
import os
import platform
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

ROUNDS = 200


def light(x):
    return x + 1


def heavy(x):
    h = x & 0xFFFFFFFF
    for i in range(ROUNDS):
        h = (h * 0x9E3779B1 + i) & 0xFFFFFFFF
        h ^= h >> 15
    return h


def wait_ms(ms):
    time.sleep(ms / 1000.0)
    return ms


def out(section, key, value):
    text = str(value) if isinstance(value, int) else f"{value:.6g}"
    print(f"value {section} {key} {text}", flush=True)


def timed(fn, reps):
    fn()
    samples = []
    for _ in range(max(1, reps)):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


def vector(section, p, pool):
    n, heavy_fn, reps = int(p["n"]), int(p.get("heavy", 0)) == 1, int(p.get("reps", 2))
    fn = heavy if heavy_fn else light
    data = list(range(n))
    out(section, "sequential_ms", timed(lambda: [fn(x) for x in data], reps))
    out(section, "pool_ms", timed(lambda: pool.map(fn, data), reps))


def _count(counter, k, barrier, locked):
    barrier.wait(30)
    if locked:
        for _ in range(k):
            with counter.get_lock():
                counter.value += 1
    else:
        for _ in range(k):
            counter.value += 1  # a read, then a write: the race


def shared_counter(section, p, pool):
    k = int(p["k"])
    out(section, "k", k)
    for name, locked in (("plain", False), ("locked", True)):
        counter = mp.Value("q", 0, lock=locked)
        barrier = mp.Barrier(2)
        procs = [mp.Process(target=_count, args=(counter, k, barrier, locked)) for _ in range(2)]
        t = time.perf_counter()
        for pr in procs:
            pr.start()
        for pr in procs:
            pr.join(120)
            if pr.exitcode != 0:
                raise RuntimeError(f"a counter process exited with {pr.exitcode}")
        out(section, name + "_ms", (time.perf_counter() - t) * 1000)
        out(section, name + "_final", counter.value)


def _produce_queue(q, n):
    for i in range(n):
        q.put(i)


def _produce_pipe(conn, n):
    for i in range(n):
        conn.send(i)
    conn.close()


def queue_vs_pipe(section, p, pool):
    n = int(p["n"])
    out(section, "n", n)
    q = mp.Queue(10_000)
    pr = mp.Process(target=_produce_queue, args=(q, n))
    t = time.perf_counter()
    pr.start()
    s = 0
    for _ in range(n):
        s += q.get(timeout=60)
    pr.join(60)
    if s != n * (n - 1) // 2:
        raise RuntimeError("queue lost or changed messages")
    out(section, "queue_per_s", n / (time.perf_counter() - t))
    reader, writer = mp.Pipe(duplex=False)
    pr = mp.Process(target=_produce_pipe, args=(writer, n))
    t = time.perf_counter()
    pr.start()
    writer.close()
    s = 0
    for _ in range(n):
        s += reader.recv()
    pr.join(60)
    if s != n * (n - 1) // 2:
        raise RuntimeError("pipe lost or changed messages")
    out(section, "pipe_per_s", n / (time.perf_counter() - t))


def io_bound(section, p, pool):
    tasks, ms, workers, cpu_n = int(p["tasks"]), int(p["ms"]), int(p["workers"]), int(p["cpu_n"])
    items = [ms] * tasks
    out(section, "sequential_ms", timed(lambda: [wait_ms(m) for m in items], 1))
    with ThreadPoolExecutor(workers) as ex:
        out(section, "threads_few_ms", timed(lambda: list(ex.map(wait_ms, items)), 2))
    with ThreadPoolExecutor(tasks) as ex:
        out(section, "threads_many_ms", timed(lambda: list(ex.map(wait_ms, items)), 2))
    with mp.Pool(workers) as procs:
        out(section, "processes_ms", timed(lambda: procs.map(wait_ms, items, 1), 2))
    data = list(range(cpu_n))
    out(section, "cpu_sequential_ms", timed(lambda: [heavy(x) for x in data], 2))
    with ThreadPoolExecutor(workers) as ex:
        out(section, "cpu_threads_ms", timed(lambda: list(ex.map(heavy, data, chunksize=max(1, cpu_n // 8))), 2))


def map_imap(section, p, pool):
    tasks, slow_index, slow_ms = int(p["tasks"]), int(p["slow_index"]), int(p["slow_ms"])
    durations = [slow_ms if i == slow_index else slow_ms // 10 for i in range(tasks)]
    pool.map(wait_ms, [1, 1], 1)  # both workers started

    def first_half_last(it):
        t = time.perf_counter()
        first = half = None
        count = 0
        for _ in it:
            count += 1
            at = (time.perf_counter() - t) * 1000
            if count == 1:
                first = at
            if count == tasks // 2:
                half = at
        return first, half, (time.perf_counter() - t) * 1000

    t = time.perf_counter()
    pool.map(wait_ms, durations, 1)
    m = (time.perf_counter() - t) * 1000
    for key, vals in (("map", (m, m, m)), ("imap", first_half_last(pool.imap(wait_ms, durations, 1))),
                      ("unordered", first_half_last(pool.imap_unordered(wait_ms, durations, 1)))):
        out(section, key + "_first_ms", vals[0])
        out(section, key + "_half_ms", vals[1])
        out(section, key + "_last_ms", vals[2])


def manager_vs_shared(section, p, pool):
    ops = int(p["ops"])
    with mp.Manager() as manager:
        v = manager.Value("q", 0)

        def proxy_set():
            for i in range(ops):
                v.value = i

        def proxy_get():
            s = 0
            for _ in range(ops):
                s += v.value
        out(section, "proxy_set_us", timed(proxy_set, 2) * 1000 / ops)
        out(section, "proxy_get_us", timed(proxy_get, 2) * 1000 / ops)
    shared = mp.Value("q", 0, lock=False)
    many = ops * 20

    def shared_set():
        for i in range(many):
            shared.value = i

    def shared_get():
        s = 0
        for _ in range(many):
            s += shared.value
    out(section, "shared_set_us", timed(shared_set, 2) * 1000 / many)
    out(section, "shared_get_us", timed(shared_get, 2) * 1000 / many)


def pipe_trap(section, p, pool):
    chunk = b"x" * int(p.get("chunk", 1024))
    for key, duplex in (("duplex_bytes", True), ("oneway_bytes", False)):
        a, b = mp.Pipe(duplex=duplex)
        writer = b if not duplex else a  # Pipe(duplex=False) returns (reader, writer)
        fd = writer.fileno()
        os.set_blocking(fd, False)
        total = 0
        while total < (1 << 30):
            try:
                total += os.write(fd, chunk)
            except BlockingIOError:
                break
        out(section, key, total)
        a.close()
        b.close()


SECTIONS = {
    "vector-light": vector, "vector-heavy": vector, "shared-counter": shared_counter,
    "queue-vs-pipe": queue_vs_pipe, "io-bound": io_bound, "map-imap": map_imap,
    "manager-vs-shared": manager_vs_shared, "pipe-trap": pipe_trap,
}


def main():
    params = {}
    for arg in sys.argv[1:]:
        section, _, kv = arg.partition(":")
        key, _, value = kv.partition("=")
        params.setdefault(section, {})[key] = value
    print(f"version {platform.python_version()}", flush=True)
    pool = None
    try:
        for section, p in params.items():
            fn = SECTIONS.get(section)
            if fn is None:
                print(f"error {section} no Python counterpart in tour_python.py", flush=True)
                continue
            if pool is None and section in ("vector-light", "vector-heavy", "map-imap"):
                pool = mp.Pool(2)
                pool.map(light, range(100), 1)
            try:
                fn(section, p, pool)
            except Exception as e:  # one section failing must not hide the others
                print(f"error {section} {type(e).__name__}: {e}".replace("\n", " "), flush=True)
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()


if __name__ == "__main__":
    main()
