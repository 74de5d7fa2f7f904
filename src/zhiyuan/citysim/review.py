"""The automatic reviewer: moves cases along on a schedule, as a city department would (unless --manual).

Every `interval` seconds: a case received (or supplemented after a return) `review_after` seconds ago goes
to in_review; a case in review for `decide_after` seconds is decided: returned for more material with
probability `return_rate` (at most once per case, so a demo always converges), otherwise denied with
probability `deny_rate`, otherwise granted. The reasons are data sent to the district, in Chinese.
"""

import logging
import random
import threading
import time
from collections.abc import Callable

from zhiyuan.citysim.store import CaseError, Store

logger = logging.getLogger(__name__)

RETURN_REASON = "请补充项目可行性研究报告及用地权属证明材料。"
DENY_REASON = "项目不符合产业政策和相关规划要求，不予许可。"
BATCH = 100


class AutoReviewer(threading.Thread):
    """A daemon thread that reviews and decides due cases until stopped."""

    def __init__(
        self,
        store: Store,
        *,
        review_after: float,
        decide_after: float,
        return_rate: float,
        deny_rate: float,
        rng: random.Random,
        on_change: Callable[[], None],
        interval: float = 0.2,
    ):
        super().__init__(name="citysim-reviewer", daemon=True)
        self.store = store
        self.review_after, self.decide_after = review_after, decide_after
        self.return_rate, self.deny_rate = return_rate, deny_rate
        self.rng = rng
        self.on_change = on_change
        self.interval = interval
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                self.step()
            except Exception:
                logger.exception("citysim reviewer: a review round failed")

    def decide(self, case) -> tuple[str, str]:
        """The action for a due case, and its reason."""
        if case["status"] != "in_review":
            return "review", ""
        if case["returns"] == 0 and self.rng.random() < self.return_rate:
            return "return", RETURN_REASON
        if self.rng.random() < self.deny_rate:
            return "deny", DENY_REASON
        return "approve", ""

    def step(self) -> int:
        """One round; returns how many cases moved."""
        due = self.store.due_for_review(now=time.time(), review_after=self.review_after, decide_after=self.decide_after)
        moved = 0
        for start in range(0, len(due), BATCH):
            with self.store.transaction() as conn:
                for case in due[start : start + BATCH]:
                    action, reason = self.decide(case)
                    try:
                        self.store.apply(conn, case["case_number"], action, reason)
                    except CaseError:
                        continue  # a reviewer acted on it in the meantime
                    moved += 1
            if moved:
                self.on_change()
        return moved
