"""Background tasks of the chains app: re-apply the mapping rules so the maps follow the product
database (run by the worker; meant for the daily list in settings.ZHIYUAN_DAILY_TASKS)."""

import logging

from django_tasks import task

from zhiyuan.chains.services import nodes_map_suggest

logger = logging.getLogger(__name__)


@task()
def run_chain_mapping() -> dict:
    """Bring the rules' suggestions up to date with the products and the firms' industries."""
    changed = nodes_map_suggest(actor=None)
    logger.info("chain mapping: %d suggestions changed", changed)
    return {"changed": changed}
