"""Throughput and memory benchmark: crawl a local mirror of N portals x M articles end to end.

    .venv/bin/python bench/run.py                 # 20 portals x 250 articles (make bench)
    .venv/bin/python bench/run.py --quick --json  # 5 x 100, one JSON object, under a minute

What runs: ``bench/mirror.py`` writes the mirror and serves it from its own process on 127.0.0.1 (an
asyncio server answering absolute-URI proxy requests, with ETags and request counts). The crawl is the
real CLI, ``newsmon crawl --all --json``, in a subprocess, with a generated config folder (one source per
portal, ``proxy:`` set to the server) and a fresh SQLite database, with newsmon's bytecode compiled first
as an install has it (``compile_bytecode``). Three crawls:

1. first crawl of the whole mirror: articles/s end to end (process start to exit, all stored);
2. a re-crawl with nothing changed: requests per source, article requests (should be none);
3. a re-crawl after 1% new articles were added at the top of the columns: requests, seconds.

Beside crawl 1, in this process and the same run: ``trafilatura.bare_extraction`` over the same article
pages (decoded by ``crawler.extract.decode_html`` beforehand, untimed), one process, with the options
newsmon passes it, timed once just before crawl 1 and once just after (the rate is over both passes);
the ratio end-to-end / bare is the figure the issue tracks. Peak RSS is the largest
sum of VmRSS over the crawl process and its descendants (extraction workers), sampled every 50 ms, and the
crawl process's own VmHWM. Politeness is off for a local mirror (no robots.txt, no AutoThrottle,
16 requests per host): delays would measure sleep, not work. The output says so.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import mirror as mirror_mod  # noqa: E402

CRAWL_SETTINGS = {"obey_robots": False, "autothrottle": False, "concurrent_per_host": 16, "retries": 1}


# -------------------------------------------------------------------------------------------- server


class MirrorServer:
    def __init__(self, folder: Path, log: Path) -> None:
        ready = folder / "port"
        ready.unlink(missing_ok=True)
        self.log = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "mirror.py"), "serve", str(folder), "--ready-file", str(ready)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while not ready.exists() or not ready.read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"mirror server did not start: see {log}")
            time.sleep(0.05)
        self.port = int(ready.read_text())
        self.url = f"http://127.0.0.1:{self.port}"

    def control(self, action: str) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/__bench/{action}", timeout=120) as answer:
            data: dict[str, Any] = json.loads(answer.read())
        return data

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


# ---------------------------------------------------------------------------------------------- config


def write_config(folder: Path, manifest: dict[str, Any], proxy: str, data_dir: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rules.yaml").unlink(missing_ok=True)
    (folder / "rules.yaml").symlink_to(ROOT / "config" / "rules.yaml")  # always the tree's own vocabulary
    crawl = "\n".join(f"  {k}: {json.dumps(v)}" for k, v in CRAWL_SETTINGS.items())
    (folder / "newsmon.yaml").write_text(
        f"data_dir: {data_dir}\ncrawl:\n{crawl}\nalerts:\n  threshold_yi: 10\n  sinks:\n"
        f"    - kind: jsonl\n      path: {data_dir / 'alerts.jsonl'}\n",
        encoding="utf-8",
    )
    lines = ["sources:"]
    for p in manifest["portals"]:
        lines += [
            f"  - name: {p['name']}",
            f"    list_urls: [{p['list_url']}]",
            f"    region: {p['region']}",
            "    max_pages: 1000",
            f"    proxy: {proxy}",
        ]
    (folder / "sources.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


# ------------------------------------------------------------------------------------------------ crawl


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _descendants(pid: int) -> list[int]:
    """Children, grandchildren...: extraction workers are the forkserver's children."""
    found, todo = [], [pid]
    while todo:
        kids = _children(todo.pop())
        found.extend(kids)
        todo.extend(kids)
    return found


def _busy_s() -> float:
    """CPU seconds spent by the whole machine (all cores, not idle or iowait), from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def _proc_kb(path: str, key: str) -> int:
    """The kB figure on the ``key`` line of a /proc file (0 once the process is gone)."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _status_kb(pid: int, key: str) -> int:
    return _proc_kb(f"/proc/{pid}/status", key)


def _pss_kb(pid: int) -> int:
    """Proportional set size: resident pages, a page shared by N processes counted 1/N in each."""
    return _proc_kb(f"/proc/{pid}/smaps_rollup", "Pss:")


def _cpu_s(pid: int) -> float:
    """User + system seconds of one process so far (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class CrawlResult:
    seconds: float
    exit_code: int
    output: dict[str, Any]
    requests: dict[str, int]
    server_cpu_s: float
    peak_rss_mb: float  # process tree, sampled
    peak_pss_mb: float  # the same, shared pages counted once (every 0.5 s)
    main_hwm_mb: float  # the crawl process's own high-water mark
    processes: int  # crawl process + children seen
    crawl_cpu_s: float  # user + system of the crawl process and its workers
    other_cpu_s: float  # CPU used on the machine by anything else (other jobs would skew the figures)
    stderr_tail: list[str] = field(default_factory=list)

    @property
    def runs(self) -> list[dict[str, Any]]:
        runs: list[dict[str, Any]] = self.output.get("runs", [])
        return runs

    @property
    def stored(self) -> int:
        return sum(r["articles_new"] + r["articles_duplicate"] for r in self.runs)

    @property
    def errors(self) -> int:
        return sum(len(r["errors"]) for r in self.runs)


def crawl(config: Path, db_url: str, server: MirrorServer, log: Path, workers: int | None = None) -> CrawlResult:
    env = dict(os.environ)
    if workers is not None:
        env["NEWSMON_EXTRACT_WORKERS"] = str(workers)
    before = server.control("reset")
    busy_before, own_before = _busy_s(), sum(os.times()[:2])
    newsmon = Path(sys.executable).parent / "newsmon"
    command = [str(newsmon), "crawl", "--all", "--json", "--config", str(config), "--db", db_url]
    with log.open("w") as err, tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=err, cwd=config.parent, env=env)
        peak, hwm, pss, seen = 0, 0, 0, {proc.pid}
        cpu: dict[int, float] = {}  # per process of the tree: forkserver workers are not the crawl's
        done = threading.Event()  # children, so the crawl's rusage misses them

        def sample() -> None:
            nonlocal peak, hwm, pss
            rounds, pids = 0, [proc.pid]
            while not done.is_set():
                if rounds % 10 == 0:  # the process table and PSS every 0.5 s, the RSS of the tree every 50 ms
                    pids = [proc.pid, *_descendants(proc.pid)]
                    seen.update(pids)
                    pss = max(pss, sum(_pss_kb(p) for p in pids))
                rounds += 1
                peak = max(peak, sum(_status_kb(p, "VmRSS") for p in pids))
                hwm = max(hwm, _status_kb(proc.pid, "VmHWM"))
                cpu.update({p: max(cpu.get(p, 0.0), _cpu_s(p)) for p in pids})
                done.wait(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    busy = _busy_s() - busy_before - (sum(os.times()[:2]) - own_before)  # not this process (the sampler)
    after = server.control("stats")
    # The crawl's rusage (itself and the children it waited for) or the sampled tree, whichever saw more.
    crawl_cpu = max(usage.ru_utime + usage.ru_stime, sum(cpu.values()))
    server_cpu = after["cpu_s"] - before["cpu_s"]
    try:
        output = json.loads(text)
    except json.JSONDecodeError:
        output = {}
    tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
    return CrawlResult(
        seconds=seconds,
        exit_code=proc.returncode,
        output=output,
        requests=dict(after["counts"]),
        server_cpu_s=server_cpu,
        peak_rss_mb=peak / 1024,
        peak_pss_mb=pss / 1024,
        main_hwm_mb=max(hwm, usage.ru_maxrss) / 1024,
        processes=len(seen),
        crawl_cpu_s=crawl_cpu,
        other_cpu_s=max(busy - crawl_cpu - server_cpu, 0.0),
        stderr_tail=tail if not output or proc.returncode else [],
    )


# --------------------------------------------------------------------------------------- bare trafilatura


def bare_trafilatura(folder: Path) -> tuple[int, float]:
    """(pages, seconds) of trafilatura.bare_extraction over every article page, decoded beforehand."""
    import trafilatura

    from crawler.extract import decode_html

    pages = [(url, decode_html(body, ctype).text) for url, body, ctype in mirror_mod.article_pages(folder)]
    start = time.perf_counter()
    for url, html in pages:
        trafilatura.bare_extraction(
            html, url=url, favor_recall=True, include_comments=False, with_metadata=True, deduplicate=False
        )
    return len(pages), time.perf_counter() - start


# ------------------------------------------------------------------------------------------------ report


def _mentions(db_path: Path) -> dict[str, int]:
    with sqlite3.connect(db_path) as db:
        return {
            table: int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
            for table in ("articles", "projects", "project_mentions", "alerts")
        }


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())


def run(portals: int, articles: int, work: Path, workers: int | None, baseline: bool) -> dict[str, Any]:
    folder = work / "mirror"
    manifest = mirror_mod.generate(folder, portals, articles)
    server = MirrorServer(folder, work / "server.log")
    try:
        config = work / "config"
        write_config(config, manifest, server.url, work / "data")
        db_path = work / "data" / "bench.db"
        db_path.parent.mkdir(exist_ok=True)
        db_url = f"sqlite:///{db_path}"
        inline = None
        if baseline:  # the same first crawl with extraction in the crawl process, into its own database
            inline = crawl(config, f"sqlite:///{work / 'data' / 'inline.db'}", server, work / "inline.log", 0)
        # Bare trafilatura timed just before and just after crawl 1, over the same pages: the machine's
        # speed drifts by tens of percent over minutes here (shared host), and the mean of both brackets
        # the crawl instead of meeting only its end.
        bare_before = bare_trafilatura(folder)
        first = crawl(config, db_url, server, work / "crawl1.log", workers)
        bare_after = bare_trafilatura(folder)
        db_bytes = _size(db_path)
        rows = _mentions(db_path)
        bare_pages, bare_s = bare_before[0] + bare_after[0], bare_before[1] + bare_after[1]
        second = crawl(config, db_url, server, work / "crawl2.log", workers)
        manifest3 = mirror_mod.generate(folder, portals, articles, new_share=0.01)
        server.control("reload")
        third = crawl(config, db_url, server, work / "crawl3.log", workers)
    finally:
        server.stop()
    e2e = first.stored / first.seconds if first.seconds else 0.0
    bare = bare_pages / bare_s if bare_s else 0.0
    new3 = int(manifest3["new_articles"])

    def requests(c: CrawlResult) -> int:
        return sum(v for k, v in c.requests.items() if k != "not_modified")

    return {
        "mirror": {
            "portals": portals,
            "articles": manifest["articles"],
            "reprints": manifest["reprints"],
            "gbk_articles": manifest["gbk_articles"],
            "article_mb": round(manifest["bytes"]["article"] / 2**20, 1),
            "styles": sorted({p["style"] for p in manifest["portals"]}),
        },
        "crawl_settings": {**CRAWL_SETTINGS, "note": "politeness off for a local mirror: delays would measure sleep"},
        "cpus": os.cpu_count(),
        "crawl1_seconds": round(first.seconds, 2),
        "crawl1_stored": first.stored,
        "crawl1_new": sum(r["articles_new"] for r in first.runs),
        "crawl1_duplicate": sum(r["articles_duplicate"] for r in first.runs),
        "crawl1_errors": first.errors,
        "end_to_end_per_s": round(e2e, 1),
        "bare_trafilatura_per_s": round(bare, 1),
        "bare_trafilatura_pages": bare_after[0],
        "bare_trafilatura_before_after_per_s": [round(n / t, 1) if t else None for n, t in (bare_before, bare_after)],
        "ratio": round(e2e / bare, 2) if bare else None,
        "requests_per_stored_article": round(requests(first) / first.stored, 3) if first.stored else None,
        "crawl1_requests": first.requests,
        "peak_rss_mb": round(first.peak_rss_mb, 1),
        "peak_pss_mb": round(first.peak_pss_mb, 1),
        "crawl_process_hwm_mb": round(first.main_hwm_mb, 1),
        "crawl_processes": first.processes,
        "server_cpu_share": round(first.server_cpu_s / first.seconds, 3) if first.seconds else None,
        "crawl1_cpu_cores": round(first.crawl_cpu_s / first.seconds, 2) if first.seconds else None,
        "other_load_cores": round(first.other_cpu_s / first.seconds, 2) if first.seconds else None,
        "db_mb": round(db_bytes / 2**20, 2),
        "db_rows": rows,
        "mentions_per_article": round(rows["project_mentions"] / max(rows["articles"], 1), 2),
        "extract_workers": workers if workers is not None else _default_workers(),
        "ingest_process": _ingest_process(workers),
        "inline_extraction": None
        if inline is None
        else {
            "seconds": round(inline.seconds, 2),
            "end_to_end_per_s": round(inline.stored / inline.seconds, 1) if inline.seconds else None,
            "ratio": round(inline.stored / inline.seconds / bare, 2) if inline.seconds and bare else None,
            "peak_rss_mb": round(inline.peak_rss_mb, 1),
            "crawl_cpu_cores": round(inline.crawl_cpu_s / inline.seconds, 2) if inline.seconds else None,
            "other_load_cores": round(inline.other_cpu_s / inline.seconds, 2) if inline.seconds else None,
        },
        "recrawl_seconds": round(second.seconds, 2),
        "recrawl_requests": requests(second),
        "recrawl_requests_per_source": round(requests(second) / portals, 2),
        "recrawl_article_requests": second.requests.get("article", 0),
        "recrawl_not_modified": second.requests.get("not_modified", 0),
        "recrawl_stored": second.stored,
        "new1pct_articles_added": new3,
        "new1pct_seconds": round(third.seconds, 2),
        "new1pct_requests": requests(third),
        "new1pct_article_requests": third.requests.get("article", 0),
        "new1pct_list_requests": third.requests.get("list", 0),
        "new1pct_stored": third.stored,
        "new1pct_errors": third.errors,
        "exit_codes": [first.exit_code, second.exit_code, third.exit_code],
        "stderr_tail": {
            k: c.stderr_tail for k, c in (("crawl1", first), ("crawl2", second), ("crawl3", third)) if c.stderr_tail
        },
    }


def _ingest_process(workers: int | None) -> bool:
    """Whether the crawl stores in an ingest process (crawler/ingestproc.py), which takes one of the workers."""
    from crawler.ingestlaunch import store_in_child

    if workers is None:
        return store_in_child()
    return workers > 0 and os.environ.get("NEWSMON_INGEST_PROCESS", "").strip() != "0"


def _default_workers() -> int:
    from crawler.ingestlaunch import extract_workers

    return extract_workers()


def print_table(r: dict[str, Any]) -> None:
    m = r["mirror"]
    print(
        f"\nnewsmon bench: {m['portals']} portals x {m['articles'] // m['portals']} articles "
        f"({m['articles']} pages, {m['article_mb']} MB, {m['reprints']} reprints, {m['gbk_articles']} GBK, "
        f"styles {', '.join(m['styles'])}); {r['cpus']} CPUs"
    )
    s = r["crawl_settings"]
    print(
        f"crawl settings: obey_robots={s['obey_robots']} autothrottle={s['autothrottle']} "
        f"concurrent_per_host={s['concurrent_per_host']} ({s['note']})\n"
    )
    rows = [
        (
            "first crawl",
            f"{r['crawl1_seconds']} s, {r['crawl1_stored']} stored ({r['crawl1_new']} new, "
            f"{r['crawl1_duplicate']} duplicate), {r['crawl1_errors']} errors",
        ),
        (
            "end to end",
            f"{r['end_to_end_per_s']} articles/s ({r['extract_workers']} worker processes"
            f"{', one of them the ingest process' if r['ingest_process'] else ''})",
        ),
        ("bare trafilatura (1 process)", f"{r['bare_trafilatura_per_s']} articles/s"),
        ("ratio end to end / bare", f"{r['ratio']}"),
        ("requests per stored article", f"{r['requests_per_stored_article']}"),
        (
            "peak RSS (crawl process tree)",
            f"{r['peak_rss_mb']} MB ({r['crawl_processes']} processes; "
            f"crawl process VmHWM {r['crawl_process_hwm_mb']} MB; PSS {r['peak_pss_mb']} MB)",
        ),
        ("mirror server CPU / crawl time", f"{r['server_cpu_share']}"),
        (
            "cores used by crawl / by others",
            f"{r['crawl1_cpu_cores']} / {r['other_load_cores']} (others > 0.1: another job skewed this run)",
        ),
        (
            "database size",
            f"{r['db_mb']} MB ({r['db_rows']['articles']} articles, {r['db_rows']['projects']} "
            f"projects, {r['mentions_per_article']} project mentions per article)",
        ),
        (
            "re-crawl, nothing changed",
            f"{r['recrawl_seconds']} s, {r['recrawl_requests']} requests "
            f"({r['recrawl_requests_per_source']}/source, {r['recrawl_not_modified']} "
            f"answered 304), {r['recrawl_article_requests']} article requests",
        ),
        (
            "re-crawl, 1% new",
            f"{r['new1pct_seconds']} s, {r['new1pct_requests']} requests "
            f"({r['new1pct_list_requests']} list, {r['new1pct_article_requests']} article for "
            f"{r['new1pct_articles_added']} added), {r['new1pct_stored']} stored",
        ),
    ]
    if (inline := r["inline_extraction"]) is not None:
        rows.insert(
            4,
            (
                "same, extraction in-process",
                f"{inline['end_to_end_per_s']} articles/s, ratio "
                f"{inline['ratio']}, peak RSS {inline['peak_rss_mb']} MB, "
                f"cores {inline['crawl_cpu_cores']} / others {inline['other_load_cores']}",
            ),
        )
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")
    for name, tail in r["stderr_tail"].items():
        print(f"\n{name} stderr (last lines):\n  " + "\n  ".join(tail))


def compile_bytecode() -> None:
    """newsmon's modules compiled as an install would have them (``make bytecode``): an editable install
    has no bytecode, and with PYTHONDONTWRITEBYTECODE set (as on the bench machine) every crawl process
    compiled them anew, ~0.2 s of CPU each, which is no cost of the monitor."""
    import compileall

    for package in ("crawler", "spiders", "pipelines"):
        compileall.compile_dir(ROOT / package, quiet=2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="newsmon throughput/memory benchmark on a local mirror")
    parser.add_argument("--quick", action="store_true", help="5 portals x 100 articles")
    parser.add_argument("--portals", type=int)
    parser.add_argument("--articles", type=int)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--workers", type=int, help="worker processes: the ingest process and extraction workers (default: newsmon's)"
    )
    parser.add_argument("--baseline", action="store_true", help="also time the first crawl with in-process extraction")
    parser.add_argument("--workdir", type=Path, help="keep mirror, config, db and logs here (default: a temp dir)")
    args = parser.parse_args(argv)
    compile_bytecode()
    portals = args.portals or (5 if args.quick else 20)
    articles = args.articles or (100 if args.quick else 250)
    if args.workdir:
        shutil.rmtree(args.workdir, ignore_errors=True)
        args.workdir.mkdir(parents=True)
        result = run(portals, articles, args.workdir.resolve(), args.workers, args.baseline)
    else:
        with tempfile.TemporaryDirectory(prefix="newsmon-bench-") as tmp:
            result = run(portals, articles, Path(tmp), args.workers, args.baseline)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print_table(result)
        print("\n" + json.dumps(result, ensure_ascii=False))
    return 0 if all(c in (0,) for c in result["exit_codes"]) else 1


if __name__ == "__main__":
    sys.exit(main())
