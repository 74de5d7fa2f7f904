"""Background tasks of the product database (run by the task worker; `zhiyuan catalog worker` does the
same in a loop)."""

import logging

from django_tasks import task

from zhiyuan.catalog.indexing import apply_changes, index_lag

logger = logging.getLogger(__name__)


@task()
def apply_index_changes() -> dict:
    """Apply the product change log to the search index."""
    applied = apply_changes()
    result = {"applied": applied, "lag": index_lag()}
    if applied:
        logger.info("catalog index: %s", result)
    return result
