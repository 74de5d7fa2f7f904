"""`zhiyuan credit …`: the credit system's scorecard models, scoring runs, feeds and retention.

    zhiyuan credit train [--folds 5] [--repeats 1] [--base-score 600 --base-odds 50 --pdo 20] [--activate] [--note …]
    zhiyuan credit activate VERSION
    zhiyuan credit models
    zhiyuan credit score [--as-of YYYY-MM-DD]
    zhiyuan credit synth [--as-of YYYY-MM-DD] [--seed 2019] [--months 36] [--demo-only]
    zhiyuan credit purge [--today YYYY-MM-DD]
    zhiyuan credit import FEED FILE --source "区税务局" [--dry-run]

Everything runs as the system (actor None) and is audited like the same action on the pages.
Progress goes to stderr; results to stdout. A refused action exits with status 1 and its reason.
"""

import datetime as dt
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from zhiyuan.core.errors import DomainError
from zhiyuan.credit import retention, scoring
from zhiyuan.credit.features import dropped_text
from zhiyuan.credit.models import Feed, Outcome, ScoreModel
from zhiyuan.credit.scorecard import GRADES, Scaling


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(_("Not a date (YYYY-MM-DD): %(value)s") % {"value": text}) from None


class Command(BaseCommand):
    help = "SME credit: train, activate and list scorecard models, score firms, synthesise demo data, purge, import."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)

        train = sub.add_parser("train", help="Train a new scorecard version on the known default outcomes.")
        train.add_argument("--folds", type=int, default=5, help="Cross-validation folds (default 5).")
        train.add_argument("--repeats", type=int, default=1, help="Cross-validation repeats (default 1).")
        train.add_argument("--base-score", type=float, default=None, help="Points at the base odds (settings).")
        train.add_argument("--base-odds", type=float, default=None, help="Goods per bad at the base score (settings).")
        train.add_argument("--pdo", type=float, default=None, help="Points that double the odds (settings).")
        train.add_argument("--activate", action="store_true", help="Make the new version the active model.")
        train.add_argument("--note", default="", help="A note stored with the version.")

        activate = sub.add_parser("activate", help="Make a trained version the active model (audited).")
        activate.add_argument("version", type=int)

        sub.add_parser("models", help="List the trained versions.")

        score = sub.add_parser("score", help="Score every firm with the active model.")
        score.add_argument("--as-of", default=None, help="Score as of this date (default today).")

        synth = sub.add_parser(
            "synth", help="Generate synthetic feeds and outcomes (labelled synthetic), then train and score."
        )
        synth.add_argument("--as-of", default=None, help="The generated feeds end here (default today).")
        synth.add_argument("--seed", type=int, default=2019)
        synth.add_argument("--months", type=int, default=36, help="Months of monthly feeds (default 36).")
        synth.add_argument(
            "--demo-only", action="store_true", help="Only the demo firms (default: every firm without real data)."
        )
        synth.add_argument("--allow-production", action="store_true", help="Run even with ZHIYUAN_ENV=production.")

        purge = sub.add_parser("purge", help="Delete adverse records past their retention or disclosure period.")
        purge.add_argument("--today", default=None, help="Purge as if today were this date.")

        feed = sub.add_parser("import", help="Import one feed from an Excel or CSV file (all rows or none).")
        feed.add_argument("feed", choices=[choice.value for choice in Feed])
        feed.add_argument("file", help="The .xlsx or .csv file.")
        feed.add_argument("--source", required=True, help="Who supplied the data, e.g. 区税务局.")
        feed.add_argument("--dry-run", action="store_true", help="Check every row and report; write nothing.")

    def handle(self, *args, action, **options):
        try:
            getattr(self, "handle_" + action)(**options)
        except DomainError as error:
            raise CommandError(str(error.message)) from None

    def progress(self, text: str) -> None:
        self.stderr.write(text)
        self.stderr.flush()

    # -- models ----------------------------------------------------------------------------------

    def handle_train(self, *, folds, repeats, base_score, base_odds, pdo, activate, note, **options):
        default = scoring.default_scaling()
        scaling = Scaling(
            base_score=default.base_score if base_score is None else base_score,
            base_odds=default.base_odds if base_odds is None else base_odds,
            pdo=default.pdo if pdo is None else pdo,
        )
        if scaling.base_odds <= 0 or scaling.pdo <= 0:
            raise CommandError(_("--base-odds and --pdo must be positive."))
        outcomes = Outcome.objects.count()
        self.progress(
            _(
                "Training on %(count)s outcomes: features as of each observation date, then %(folds)s-fold "
                "cross-validation × %(repeats)s …"
            )
            % {"count": outcomes, "folds": folds, "repeats": repeats}
        )
        started = time.monotonic()
        model = scoring.model_train(
            actor=None,
            scaling=scaling,
            folds=folds,
            repeats=repeats,
            note=note,
            activate=activate,
            synthetic=Outcome.objects.filter(load__is_synthetic=True).exists(),
        )
        metrics = model.spec["metrics"]
        cv = metrics["cv"]
        self.stdout.write(
            _(
                "Model v%(version)s trained in %(seconds).0f s on %(size)s firm-periods, "
                "%(bads)s defaults (%(rate).1f%%)."
            )
            % {
                "version": model.version,
                "seconds": time.monotonic() - started,
                "size": model.sample_size,
                "bads": model.bad_count,
                "rate": 100 * model.bad_count / max(model.sample_size, 1),
            }
        )
        self.stdout.write(
            _(
                "Cross-validated (%(folds)s folds × %(repeats)s): AUC %(auc).3f ± %(auc_std).3f, "
                "KS %(ks).3f ± %(ks_std).3f, Gini %(gini).3f."
            )
            % {
                "folds": cv["folds"],
                "repeats": cv["repeats"],
                "auc": cv["auc_mean"],
                "auc_std": cv["auc_std"],
                "ks": cv["ks_mean"],
                "ks_std": cv["ks_std"],
                "gini": cv["gini_mean"],
            }
        )
        self.stdout.write(
            _("On the whole sample: AUC %(auc).3f, KS %(ks).3f, Gini %(gini).3f.")
            % {"auc": metrics["auc"], "ks": metrics["ks"], "gini": metrics["gini"]}
        )
        variables = ", ".join(variable["name"] for variable in model.spec["variables"])
        self.stdout.write(_("Variables: %(names)s") % {"names": variables})
        dropped = model.spec.get("dropped", [])
        if dropped:
            self.stdout.write(
                _("Dropped: %(names)s")
                % {"names": "; ".join(f"{item['name']} ({dropped_text(item)})" for item in dropped)}
            )
        else:
            self.stdout.write(_("Dropped: none"))
        if model.is_active:
            self.stdout.write(self.style.SUCCESS(_("Model v%(version)s is now active.") % {"version": model.version}))
        else:
            self.stdout.write(
                _("Not activated: run `zhiyuan credit activate %(version)s` to use it.") % {"version": model.version}
            )

    def handle_activate(self, *, version, **options):
        model = ScoreModel.objects.filter(version=version).first()
        if model is None:
            raise CommandError(_("There is no model version %(version)s.") % {"version": version})
        scoring.model_activate(actor=None, model=model)
        self.stdout.write(self.style.SUCCESS(_("Model v%(version)s is now active.") % {"version": model.version}))

    def handle_models(self, **options):
        models = list(ScoreModel.objects.order_by("-version"))
        if not models:
            self.stdout.write(_("No model has been trained yet: run `zhiyuan credit train`."))
            return
        for model in models:
            flags = []
            if model.is_active:
                flags.append(_("active"))
            if model.is_synthetic:
                flags.append(_("synthetic"))
            self.stdout.write(
                _(
                    "v%(version)s  %(trained)s  sample %(size)s (%(bads)s defaults)  "
                    "AUC %(auc).3f  KS %(ks).3f  %(flags)s  %(note)s"
                )
                % {
                    "version": model.version,
                    "trained": timezone.localtime(model.trained_at).strftime("%Y-%m-%d %H:%M"),
                    "size": model.sample_size,
                    "bads": model.bad_count,
                    "auc": model.auc,
                    "ks": model.ks,
                    "flags": ", ".join(str(flag) for flag in flags),
                    "note": model.note,
                }
            )

    # -- scoring ---------------------------------------------------------------------------------

    def handle_score(self, *, as_of, **options):
        day = _date(as_of) if as_of else timezone.localdate()
        self.progress(_("Scoring every firm as of %(date)s …") % {"date": day})
        started = time.monotonic()
        run = scoring.scoring_run_create(actor=None, as_of=day)
        self.print_run(run, time.monotonic() - started)

    def print_run(self, run, seconds: float | None = None) -> None:
        line = _("Scored %(firms)s firms as of %(date)s with model %(model)s.") % {
            "firms": run.firms,
            "date": run.as_of,
            "model": run.model,
        }
        if seconds is not None:
            line += " " + _("(%(seconds).1f s)") % {"seconds": seconds}
        self.stdout.write(line)
        counts = "  ".join(f"{grade} {run.grade_counts.get(grade, 0)}" for grade in GRADES)
        self.stdout.write(_("Grades: %(counts)s") % {"counts": counts})
        if run.psi_score is not None:
            worst = sorted(run.psi_features.items(), key=lambda item: item[1], reverse=True)[:3]
            self.stdout.write(
                _("PSI of the score %(psi).3f; highest per variable: %(worst)s")
                % {"psi": run.psi_score, "worst": ", ".join(f"{name} {value:.3f}" for name, value in worst) or "-"}
            )
        if run.drift_alert:
            self.stdout.write(
                self.style.WARNING(
                    _("Drift alert: a PSI reached %(threshold)s; review the model.")
                    % {"threshold": settings.ZHIYUAN_CREDIT_PSI_ALERT}
                )
            )
        else:
            self.stdout.write(_("No drift alert."))

    def handle_synth(self, *, as_of, seed, months, demo_only, allow_production, **options):
        from zhiyuan.credit.synth import synth_demo

        if settings.PRODUCTION and not allow_production:
            raise CommandError(
                _(
                    "Refusing to generate synthetic credit data in production: it trains and activates a model "
                    "on made-up data. Use --allow-production for a public demonstration server."
                )
            )
        if months < 1:
            raise CommandError(_("--months must be at least 1."))
        day = _date(as_of) if as_of else timezone.localdate()
        summary = synth_demo(as_of=day, seed=seed, months=months, demo_only=demo_only, stdout=self.stderr)
        if not summary["firms"]:
            raise CommandError(
                _(
                    "No firm to generate data for: load the registry or the demo first "
                    "(firms that hold real feed data are left alone)."
                )
            )
        self.stdout.write(
            _(
                "Synthetic credit data: %(rows)s records for %(firms)s firms (%(skipped)s with real data left "
                "alone), %(outcomes)s outcomes, bad rate %(rate).1f%%."
            )
            % {
                "rows": summary["rows"],
                "firms": summary["firms"],
                "skipped": summary["skipped"],
                "outcomes": summary["outcomes"],
                "rate": 100 * summary["bad_rate"],
            }
        )
        if summary["model"] is None:
            raise CommandError(
                _("No model was trained: %(reason)s") % {"reason": summary.get("error", "")}, returncode=1
            )
        self.stdout.write(
            _("Model v%(version)s trained and activated: CV AUC %(auc).3f.")
            % {"version": summary["model"], "auc": summary["auc"]}
        )
        for run in summary["runs"]:
            self.stdout.write(
                _("Scoring run as of %(date)s: %(firms)s firms, PSI %(psi)s.")
                % {"date": run["as_of"], "firms": run["firms"], "psi": run["psi"]}
            )

    # -- retention and feeds ---------------------------------------------------------------------

    def handle_purge(self, *, today, **options):
        day = _date(today) if today else timezone.localdate()
        removed = retention.purge_expired(today=day)
        if not removed:
            self.stdout.write(_("Nothing has expired before %(date)s.") % {"date": day})
            return
        labels = dict(Feed.choices)
        for feed, count in removed.items():
            self.stdout.write(_("%(feed)s: %(count)s removed") % {"feed": labels.get(feed, feed), "count": count})
        self.stdout.write(
            self.style.SUCCESS(
                ngettext(
                    "%(count)d record purged and logged.", "%(count)d records purged and logged.", sum(removed.values())
                )
                % {"count": sum(removed.values())}
            )
        )

    def handle_import(self, *, feed, file, source, dry_run, **options):
        from zhiyuan.credit.feeds import feed_import

        path = Path(file)
        if not path.is_file():
            raise CommandError(_("File not found: %(path)s") % {"path": path})
        self.progress(_("Reading %(path)s …") % {"path": path})
        with path.open("rb") as handle:
            report = feed_import(
                actor=None, feed=feed, source=source, file=handle, file_name=path.name, dry_run=dry_run
            )
        for row, column, message in report.errors:
            self.stdout.write(
                _("Row %(row)s, %(column)s: %(reason)s") % {"row": row, "column": column, "reason": message}
            )
        self.stdout.write(
            _("%(total)s rows: %(new)s new, %(updated)s updated.")
            % {"total": report.total, "new": report.to_create, "updated": report.to_update}
        )
        if report.errors:
            raise CommandError(
                ngettext(
                    "%(count)d error; nothing was imported.",
                    "%(count)d errors; nothing was imported.",
                    len(report.errors),
                )
                % {"count": len(report.errors)},
                returncode=1,
            )
        if dry_run:
            self.stdout.write(_("Dry run: every row is valid; nothing was written."))
        else:
            self.stdout.write(self.style.SUCCESS(_("Import finished.")))
