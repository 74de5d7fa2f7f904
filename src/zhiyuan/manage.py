"""The `zhiyuan` command: Django's manage entry point for every Zhiyuan task."""

import os
import sys


def main() -> None:
    """Run a management command (`zhiyuan serve`, `zhiyuan demo`, `zhiyuan migrate` …)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhiyuan.config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
