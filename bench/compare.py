#!/usr/bin/env python3
"""Side-by-side benchmark: Alternator against `implicit` 0.7.3 and Spark MLlib ALS on the same files.

Usage (from the repository root; see BENCHMARKS.md):
    bench/compare.sh [--rounds 2] [--threads 2] [--skip-spark] [--skip-implicit] [--quick]
                     [--work /tmp/alternator-bench] [--scale100m] [--python PY [--only-python]]

With --python PY (a python with `pip install ./crates/alternator-py` and rusket==0.1.101), the
Python API is compared with implicit and rusket in their own processes (bench/py_als.py), and its
fit with the CLI's.

Every comparison alternates A and B runs (Alternator, peer, Alternator, peer, ...) so that the noise of
a shared machine hits both sides alike; the table reports the best (minimum) time of each side and the
peak resident memory of each process (wait4 ru_maxrss). Quality metrics come from the same files:
ranking metrics @10 with training items filtered (implicit's ranking_metrics_at_k definition) and
RMSE on the test file with cold-start rows dropped (Spark's RegressionEvaluator with coldStartStrategy=drop).

Only the Python standard library is needed here; the peers run in the virtualenv that
../shared/bench/peers/setup.sh creates (its python also runs gen_synth.py and the pandas loader).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("ALTERNATOR_SHARED") or os.path.join(os.path.dirname(ROOT), "shared")
PEERS = os.path.join(SHARED, "bench", "peers")
ML100K = os.path.join(SHARED, "data", "ml-100k")
BIN = os.path.join(ROOT, "target", "release", "alternator")


def run(cmd, env=None):
    """Runs cmd, returns (wall seconds, peak RSS in MB, stdout). Raises on failure."""
    t = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.time() - t
    out = p.stdout.read().decode()
    err = p.stderr.read().decode()
    p.stdout.close()
    p.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with {code}:\n{err[-3000:]}")
    return wall, usage.ru_maxrss / 1024.0, out


def last_json(out):
    for line in reversed(out.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"no JSON line in output:\n{out[-2000:]}")


def peers_python(args):
    if args.skip_implicit and args.skip_spark:
        return None
    setup = os.path.join(PEERS, "setup.sh")
    if not os.path.exists(setup):
        print(f"note: {setup} not found: peers skipped", file=sys.stderr)
        return None
    try:
        out = subprocess.run(["bash", setup], check=True, capture_output=True, text=True).stdout
        return out.strip().splitlines()[-1]
    except subprocess.CalledProcessError as e:
        print(f"note: peer set-up failed, peers skipped:\n{e.stderr[-2000:]}", file=sys.stderr)
        return None


class Table:
    def __init__(self):
        self.rows = []

    def add(self, what, ours, peer, peer_name, ratio_note="", quality=""):
        self.rows.append((what, ours, peer, peer_name, ratio_note, quality))

    def print(self):
        print("| Benchmark | Alternator | Peer | Peer value | Ratio (peer / ours) | Quality (ours vs peer) |")
        print("|---|---|---|---|---|---|")
        for what, ours, peer, name, ratio, quality in self.rows:
            print(f"| {what} | {ours} | {name} | {peer} | {ratio} | {quality} |")


def best(values):
    return min(values) if values else float("nan")


def fmt_s(x):
    if x is None or x != x:
        return "—"
    return f"{x * 1000:.1f} ms" if x < 0.1 else (f"{x:.3f} s" if x < 10 else f"{x:.1f} s")


def ratio(peer, ours):
    if peer is None or ours is None or ours <= 0 or peer != peer or ours != ours:
        return "—"
    return f"{peer / ours:.1f}×"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=2, help="A/B rounds per comparison (best time kept)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-spark", action="store_true")
    ap.add_argument("--skip-implicit", action="store_true")
    ap.add_argument("--quick", action="store_true", help="1M interactions instead of 5M (smoke run)")
    ap.add_argument("--scale100m", action="store_true", help="also train on a 100M-interaction file")
    ap.add_argument("--work", default="/tmp/alternator-bench")
    ap.add_argument("--python", help="a python with the alternator package (a release build: pip install "
                    "./crates/alternator-py) and rusket==0.1.101: adds the Python API rows")
    ap.add_argument("--only-python", action="store_true", help="with --python: only the Python API rows")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "alternator-cli"], cwd=ROOT, check=True)
    py = peers_python(args)
    threads = str(args.threads)
    table = Table()

    # ---- data: the synthetic benchmark file, identical bytes for everybody.
    users, items, nnz = (20000, 10000, 1000000) if args.quick else (100000, 50000, 5000000)
    synth = os.path.join(args.work, f"s{nnz // 1000000}m.tsv")
    if not os.path.exists(synth + ".train"):
        gen = os.path.join(SHARED, "bench", "gen_synth.py")
        if py and os.path.exists(gen):
            subprocess.run([py, gen, "--users", str(users), "--items", str(items), "--nnz", str(nnz),
                            "--seed", "1", "--out", synth, "--test-frac", "0.2"], check=True)
        else:
            subprocess.run([BIN, "generate", "--users", str(users), "--items", str(items), "--nnz", str(nnz),
                            "--seed", "1", "--kind", "counts", "--test-fraction", "0.2", "--out", synth],
                           check=True)
    train, test = synth + ".train", synth + ".test"
    peer_env = dict(os.environ, PYSPARK_PYTHON=py or "python3")

    if args.python:
        python_rows(args, table, train, test, py, peer_env, threads)
        if args.only_python:
            table.print()
            return

    # ---- load
    ours, theirs = [], []
    for _ in range(args.rounds):
        w, mem, _ = run([BIN, "inspect", synth, "--json"])
        ours.append(w)
        if py:
            _, _, out = run([py, os.path.join(ROOT, "bench", "pandas_load.py"), synth])
            theirs.append(last_json(out)["load_s"])
    table.add(f"Load {os.path.basename(synth)} (whole `inspect` process vs read_csv + CSR)", fmt_s(best(ours)),
              fmt_s(best(theirs)) if theirs else "—", "pandas + scipy", ratio(best(theirs) if theirs else None, best(ours)))

    # ---- implicit ALS, CG and Cholesky, rank 64, 15 iterations
    model = os.path.join(args.work, "implicit.alt")
    # Cholesky is ~10x slower per iteration in `implicit`: 5 iterations on both sides keep the run short.
    for solver, iters in (("cg", 15), ("cholesky", 5)):
        ours_it, ours_mem, peer_it, peer_rec, peer_json = [], [], [], [], None
        for _ in range(args.rounds):
            w, mem, out = run([BIN, "fit", "--train", train, "--model", model, "--implicit-prefs", "--rank", "64",
                               "--reg-param", "0.05", "--alpha", "1", "--max-iter", str(iters), "--solver", solver,
                               "--threads", threads, "--json"])
            j = last_json(out)
            ours_it.append(j["fit_seconds"] / iters)
            ours_mem.append(mem)
            if py and not args.skip_implicit:
                _, pmem, out = run([py, os.path.join(PEERS, "implicit_als.py"), "--train", train, "--test", test,
                                    "--factors", "64", "--reg", "0.05", "--alpha", "1", "--iters", str(iters),
                                    "--threads", threads, "--solver", solver, "--k", "10"], env=peer_env)
                peer_json = last_json(out)
                peer_json["peak_mb"] = pmem
                peer_it.append(peer_json["per_iter_s"])
                peer_rec.append(peer_json["recommend_all_s"])
        _, _, out = run([BIN, "evaluate", "--model", model, "--train", train, "--test", test, "--ranking",
                         "--k", "10", "--json"])
        q = last_json(out)
        quality = f"ndcg@10 {(q.get('ndcg@10') or float('nan')):.4f}"
        if peer_json:
            quality += f" vs {(peer_json.get('ndcg@10') or float('nan')):.4f}"
        table.add(f"Implicit ALS {solver}, rank 64, {iters} iterations: s/iteration", fmt_s(best(ours_it)),
                  fmt_s(best(peer_it)) if peer_it else "—", "implicit 0.7.3",
                  ratio(best(peer_it) if peer_it else None, best(ours_it)), quality)
        table.add(f"Implicit ALS {solver}: peak memory of the fit process", f"{best(ours_mem):.0f} MB",
                  f"{peer_json['peak_mb']:.0f} MB" if peer_json else "—", "implicit 0.7.3")
        if solver == "cg":
            recs = os.path.join(args.work, "recs.tsv")
            rec = []
            for _ in range(args.rounds):
                w, _, _ = run([BIN, "recommend", "--model", model, "--all-users", "-n", "10", "--out", recs,
                               "--threads", threads])
                rec.append(w)
            table.add("Recommend top-10 for all users (whole process incl. model load)", fmt_s(best(rec)),
                      fmt_s(best(peer_rec)) if peer_rec else "—", "implicit 0.7.3",
                      ratio(best(peer_rec) if peer_rec else None, best(rec)))

    # ---- explicit ALS on MovieLens 100K against Spark
    if os.path.isdir(ML100K):
        base, tst = os.path.join(ML100K, "ua.base"), os.path.join(ML100K, "ua.test")
        m = os.path.join(args.work, "ml.alt")
        ours, spark, sj = [], [], None
        for _ in range(args.rounds):
            # Our whole process takes ~15 ms: several runs per round, the best kept (as for
            # every figure here), so that one scheduling hiccup does not decide the ratio.
            for _ in range(10):
                w, _, _ = run([BIN, "fit", "--train", base, "--model", m, "--rank", "10", "--max-iter",
                               "10", "--reg-param", "0.1", "--threads", threads, "--json"])
                ours.append(w)
            if py and not args.skip_spark and not sj:
                _, _, out = run([py, os.path.join(PEERS, "spark_als.py"), "--train", base, "--test", tst,
                                 "--rank", "10", "--max-iter", "10", "--reg-param", "0.1", "--threads", threads],
                                env=peer_env)
                sj = last_json(out)
                spark.append(sj.get("warm_fit_s", sj.get("fit_s")))
        _, _, out = run([BIN, "evaluate", "--model", m, "--test", tst, "--cold-start-strategy", "drop", "--json"])
        q = last_json(out)
        quality = f"RMSE {(q.get('rmse') or float('nan')):.4f}"
        if sj:
            quality += f" vs {(sj.get('rmse') or float('nan')):.4f}"
        table.add("Explicit ALS ML-100K ua.base, rank 10, 10 iterations (our whole process vs Spark warm fit)",
                  fmt_s(best(ours)), fmt_s(best(spark)) if spark else "—", "Spark 4.0.1 local[2]",
                  ratio(best(spark) if spark else None, best(ours)), quality)
    else:
        print(f"note: {ML100K} not found: the Spark comparison on MovieLens is skipped", file=sys.stderr)

    # ---- scale: 100M interactions
    if args.scale100m:
        big = os.path.join(args.work, "g100m.tsv")
        if not os.path.exists(big):
            subprocess.run([BIN, "generate", "--users", "2000000", "--items", "200000", "--nnz", "100000000",
                            "--seed", "1", "--kind", "counts", "--out", big], check=True)
        w, mem, out = run([BIN, "fit", "--train", big, "--model", os.path.join(args.work, "big.alt"),
                           "--implicit-prefs", "--rank", "64", "--reg-param", "0.05", "--max-iter", "3",
                           "--threads", threads, "--json"])
        j = last_json(out)
        table.add("Scale: 100M interactions, implicit CG rank 64, s/iteration (peak memory)",
                  f"{j['fit_seconds'] / 3:.1f} s ({mem / 1024:.1f} GB)", "—", "—")

    table.print()


def python_rows(args, table, train, test, py, peer_env, threads):
    """The Python API (alternator.cpu.als, implicit's API) against implicit 0.7.3 and rusket
    0.1.101 in their own processes, each engine running bench/py_als.py, and against our CLI's fit
    on the same file (the cost of the Python layer). Alternating rounds, best of each side."""
    script = os.path.join(ROOT, "bench", "py_als.py")
    common = ["--train", train, "--test", test, "--factors", "64", "--reg", "0.05", "--alpha", "1",
              "--iters", "15", "--threads", threads, "--k", "10", "--peers", PEERS]
    engines = [("alternator", args.python), ("rusket", args.python)]
    if py and not args.skip_implicit:
        engines.append(("implicit", py))
    res = {name: [] for name, _ in engines}
    cli = []
    model = os.path.join(args.work, "py-cli.alt")
    for _ in range(args.rounds):
        for name, python in engines:
            _, mem, out = run([python, script, "--engine", name] + common, env=peer_env)
            j = last_json(out)
            j["peak_mb"] = mem
            res[name].append(j)
        _, _, out = run([BIN, "fit", "--train", train, "--model", model, "--implicit-prefs", "--rank", "64",
                         "--reg-param", "0.05", "--alpha", "1", "--max-iter", "15", "--threads", threads, "--json"])
        cli.append(last_json(out)["fit_seconds"])

    def best_of(name, key):
        return best([j[key] for j in res.get(name, [])]) if res.get(name) else None

    ours_it, ours_rec = best_of("alternator", "per_iter_s"), best_of("alternator", "recommend_all_s")
    ndcg = res["alternator"][-1]["ndcg@10"]
    for peer, label in (("implicit", "implicit 0.7.3"), ("rusket", "rusket 0.1.101 (cg_iters=3)")):
        if not res.get(peer):
            continue
        q = f"ndcg@10 {ndcg:.4f} vs {res[peer][-1]['ndcg@10']:.4f}"
        table.add("Python API (`alternator.cpu.als`), CG rank 64, 15 iterations: s/iteration",
                  fmt_s(ours_it), fmt_s(best_of(peer, "per_iter_s")), label,
                  ratio(best_of(peer, "per_iter_s"), ours_it), q)
        table.add("Python API: `recommend` top-10 for every user (one batch call)", fmt_s(ours_rec),
                  fmt_s(best_of(peer, "recommend_all_s")), label, ratio(best_of(peer, "recommend_all_s"), ours_rec))
    py_fit = best_of("alternator", "fit_s")
    table.add("Python layer: `model.fit(csr)` vs the CLI's `fit_seconds` (same file, CG rank 64, 15 its)",
              fmt_s(py_fit), fmt_s(best(cli)), "alternator CLI",
              f"+{(py_fit / best(cli) - 1) * 100:.1f}% over the CLI")


if __name__ == "__main__":
    main()
