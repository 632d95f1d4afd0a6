"""Python's side of multiproc4j's side-by-side benchmarks (io.multiproc4j.bench.SideBySide runs it).

The workloads mirror io.multiproc4j.bench.Workloads. Prints one 'key value' pair per line.
Usage: python3 side_by_side.py full|quick|tiny
"""
import os
import statistics
from concurrent.futures import ProcessPoolExecutor
import sys
import time
from multiprocessing import Pool

ROUNDS = 200


def light(x):
    return x + 1


def heavy(x):
    h = x & 0xFFFFFFFF
    for i in range(ROUNDS):
        h = (h * 0x9E3779B1 + i) & 0xFFFFFFFF
        h ^= h >> 15
    return h


def pid(_):
    return os.getpid()


def rss_mb(p):
    with open(f"/proc/{p}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def out(key, value):
    print(f"{key} {value}", flush=True)


def iterate_once(results):
    total = 0
    for x in results:
        total += x
    return total


def timed(fn, reps):
    fn()
    samples = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "full"
    reps = {"full": 5, "quick": 3, "tiny": 1}[mode]
    roundtrips = {"full": 5000, "quick": 1000, "tiny": 50}[mode]
    vector = {"full": 1_000_000, "quick": 1_000_000, "tiny": 10_000}[mode]
    tiny_tasks = {"full": 100_000, "quick": 20_000, "tiny": 1_000}[mode]
    heavy_n = {"full": 100_000, "quick": 20_000, "tiny": 1_000}[mode]
    out("version", sys.version.split()[0])
    with Pool(2) as pool:
        pool.map(light, range(1000))
        per_call = []
        for _ in range(max(3, reps)):
            t = time.perf_counter()
            for i in range(roundtrips):
                pool.apply_async(light, (i,)).get()
            per_call.append((time.perf_counter() - t) / roundtrips)
        out("roundtrip_us", statistics.median(per_call) * 1e6)
        data = list(range(vector))
        # the map and one pass over its results, as the Java side times it (its list boxes lazily)
        out("map1m_ms", timed(lambda: iterate_once(pool.map(light, data)), reps) * 1e3)
        small = list(range(tiny_tasks))
        t = timed(lambda: pool.map(light, small, chunksize=1), reps)
        out("tiny_tasks_per_s", tiny_tasks / t)
        hdata = list(range(heavy_n))
        seq = timed(lambda: [heavy(x) for x in hdata], reps)
        par = timed(lambda: pool.map(heavy, hdata), reps)
        out("heavy_speedup", seq / par)
        pids = set()
        deadline = time.monotonic() + 10
        while len(pids) < 2 and time.monotonic() < deadline:
            pids |= set(pool.map(pid, range(50), chunksize=1))
        out("idle_worker_rss_mb", statistics.mean(rss_mb(p) for p in pids))
    with ProcessPoolExecutor(2) as executor:
        executor.submit(light, 0).result()
        per_call = []
        for _ in range(max(3, reps)):
            t = time.perf_counter()
            for i in range(roundtrips):
                executor.submit(light, i).result()
            per_call.append((time.perf_counter() - t) / roundtrips)
        out("cf_roundtrip_us", statistics.median(per_call) * 1e6)
        small = list(range(tiny_tasks))
        t = timed(lambda: list(executor.map(light, small, chunksize=1)), reps)
        out("cf_tiny_tasks_per_s", tiny_tasks / t)
    starts = []
    for _ in range(max(3, reps)):
        t = time.perf_counter()
        p = Pool(2)
        p.apply_async(light, (1,)).get()
        starts.append(time.perf_counter() - t)
        p.terminate()
        p.join()
    out("create_first_result_ms", statistics.median(starts) * 1e3)


if __name__ == "__main__":
    main()
