"""China's NMPA duties as rules: recall classes and their clocks, retention of distribution
records, and the adverse-event reporting clocks.

Sources (the rules as published; the text is the authority, this module a reading of it):

- 《医疗器械召回管理办法》 (CFDA Order No. 29, 2017): recall classes 一级/二级/三级; distributors
  and users notified within 1, 3 or 7 days of the recall decision; the provincial regulator told
  immediately; the investigation and evaluation report (调查评估报告) and the recall plan (召回计划)
  submitted within 5 working days; progress reported daily, every 3 days or every 7 days.
- 《医疗器械经营质量管理规范》 and 《医疗器械经营监督管理办法》: purchase and sales records kept until
  2 years after the device's expiry, at least 5 years when it has none, implants permanently.
- 《医疗器械不良事件监测和再评价管理办法》 (2018): death within 7 days, serious injury within
  20 days, events abroad within 30 days; a cluster (群体不良事件) within 12 hours, its case reports
  within 24 hours, and the registrant's investigation report within 7 days.

Working days skip Saturdays and Sundays. Public holidays and the adjusted working weekends of
the State Council's yearly calendar are not known here: pass them as ``holidays`` (and
``workdays``) or they are not taken into account.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timedelta
from enum import IntEnum, StrEnum
from typing import NamedTuple

from i18n import N_
from schema.errors import InvalidInputError


class RecallClass(IntEnum):
    """一级 (class 1): use may or does cause serious harm; 二级: temporary or reversible harm;
    三级: harm unlikely, but a recall is needed."""

    FIRST = 1
    SECOND = 2
    THIRD = 3

    @property
    def chinese(self) -> str:
        return {1: "一级召回", 2: "二级召回", 3: "三级召回"}[self.value]

    @classmethod
    def parse(cls, value: int | str) -> RecallClass:
        """``1``, ``"2"``, ``"III"``, ``"一级"`` → the class."""
        text = str(value).strip()
        names = {"1": 1, "2": 2, "3": 3, "i": 1, "ii": 2, "iii": 3, "一级": 1, "二级": 2, "三级": 3}
        found = names.get(text.lower().removesuffix("召回"))
        if found is None:
            raise InvalidInputError(f"recall class must be 1, 2 or 3, not {text}")
        return cls(found)


#: Days from the recall decision to notifying distributors and users.
NOTIFY_DAYS = {RecallClass.FIRST: 1, RecallClass.SECOND: 3, RecallClass.THIRD: 7}
#: Days between progress reports to the provincial regulator.
PROGRESS_DAYS = {RecallClass.FIRST: 1, RecallClass.SECOND: 3, RecallClass.THIRD: 7}
#: Working days from the decision to submitting the investigation report and the recall plan.
PLAN_WORKING_DAYS = 5


class ClockKind(StrEnum):
    REPORT_REGULATOR = "report-regulator"
    NOTIFY_CONSIGNEES = "notify-consignees"
    INVESTIGATION_REPORT = "investigation-report"
    RECALL_PLAN = "recall-plan"
    PROGRESS_REPORT = "progress-report"


class Clock(NamedTuple):
    """One duty with its deadline."""

    kind: ClockKind
    title: str
    """In English, marked for the catalogue: show it with ``i18n.gettext``."""
    due: datetime
    rule: str
    """The rule in words, English, marked for the catalogue."""


_TITLES = {
    ClockKind.REPORT_REGULATOR: N_("Report the recall to the provincial regulator"),
    ClockKind.NOTIFY_CONSIGNEES: N_("Notify distributors and users"),
    ClockKind.INVESTIGATION_REPORT: N_("Submit the investigation and evaluation report"),
    ClockKind.RECALL_PLAN: N_("Submit the recall plan"),
    ClockKind.PROGRESS_REPORT: N_("Report recall progress to the provincial regulator"),
}
_RULES = {
    ClockKind.REPORT_REGULATOR: N_("immediately after the recall decision"),
    ClockKind.NOTIFY_CONSIGNEES: N_("within 1 day (class 1), 3 days (class 2) or 7 days (class 3)"),
    ClockKind.INVESTIGATION_REPORT: N_("within 5 working days of the recall decision"),
    ClockKind.RECALL_PLAN: N_("within 5 working days of the recall decision"),
    ClockKind.PROGRESS_REPORT: N_("daily (class 1), every 3 days (class 2) or every 7 days (class 3)"),
}


def add_working_days(
    start: datetime,
    days: int,
    *,
    holidays: Collection[date] = (),
    workdays: Collection[date] = (),
) -> datetime:
    """``start`` moved on by ``days`` working days, at the same time of day.

    Saturdays, Sundays and ``holidays`` are not working days; ``workdays`` are, even on a
    weekend (the make-up working days of China's holiday calendar).

    >>> add_working_days(datetime(2024, 3, 1, 9), 5)  # a Friday: the Friday after
    datetime.datetime(2024, 3, 8, 9, 0)
    >>> add_working_days(datetime(2024, 3, 1, 9), 1, holidays={date(2024, 3, 4)})
    datetime.datetime(2024, 3, 5, 9, 0)
    """
    if days < 0:
        raise InvalidInputError(f"working days must be zero or more, not {days}")
    current = start
    left = days
    while left:
        current += timedelta(days=1)
        day = current.date()
        if day in workdays or (day.weekday() < 5 and day not in holidays):
            left -= 1
    return current


def recall_clocks(
    recall_class: RecallClass,
    decided_at: datetime,
    *,
    holidays: Collection[date] = (),
    workdays: Collection[date] = (),
) -> list[Clock]:
    """The duties a recall decision of ``recall_class`` at ``decided_at`` starts, by due time.

    >>> [(c.kind.value, c.due.isoformat()) for c in recall_clocks(RecallClass.FIRST, datetime(2024, 3, 1, 9))]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('report-regulator', '2024-03-01T09:00:00'), ('notify-consignees', '2024-03-02T09:00:00'),
     ('progress-report', '2024-03-02T09:00:00'), ('investigation-report', '2024-03-08T09:00:00'),
     ('recall-plan', '2024-03-08T09:00:00')]
    """
    plan_due = add_working_days(decided_at, PLAN_WORKING_DAYS, holidays=holidays, workdays=workdays)
    dues = {
        ClockKind.REPORT_REGULATOR: decided_at,
        ClockKind.NOTIFY_CONSIGNEES: decided_at + timedelta(days=NOTIFY_DAYS[recall_class]),
        ClockKind.INVESTIGATION_REPORT: plan_due,
        ClockKind.RECALL_PLAN: plan_due,
        ClockKind.PROGRESS_REPORT: decided_at + timedelta(days=PROGRESS_DAYS[recall_class]),
    }
    clocks = [Clock(kind, _TITLES[kind], due, _RULES[kind]) for kind, due in dues.items()]
    return sorted(clocks, key=lambda c: (c.due, list(ClockKind).index(c.kind)))


# -- retention of distribution records --------------------------------------------------------

#: Years distribution records are kept after the device's expiry, and without an expiry.
YEARS_AFTER_EXPIRY = 2
YEARS_WITHOUT_EXPIRY = 5


class Retention(NamedTuple):
    keep_until: date | None
    """None: permanently (implants)."""
    rule: str
    """Which rule applies, English, marked for the catalogue."""


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def retention(*, expiry: date | None, recorded: date, implant: bool = False) -> Retention:
    """How long a distribution record must be kept.

    >>> retention(expiry=date(2027, 1, 21), recorded=date(2024, 1, 25)).keep_until
    datetime.date(2029, 1, 21)
    >>> retention(expiry=None, recorded=date(2024, 1, 25)).keep_until
    datetime.date(2029, 1, 25)
    >>> retention(expiry=date(2027, 1, 21), recorded=date(2024, 1, 25), implant=True).keep_until is None
    True
    """
    if implant:
        return Retention(None, N_("implant: kept permanently"))
    if expiry is not None:
        return Retention(_years_later(expiry, YEARS_AFTER_EXPIRY), N_("2 years after expiry"))
    return Retention(_years_later(recorded, YEARS_WITHOUT_EXPIRY), N_("no expiry: 5 years"))


# -- adverse-event clocks ---------------------------------------------------------------------


class AdverseEventClock(NamedTuple):
    rule: str
    """The signal rule that carries it (``adverse_event.*``), matched by the alert rules."""
    hours: float
    title: str


#: Reporting deadlines of adverse events, counted from when the registrant learned of them.
ADVERSE_EVENT_CLOCKS: dict[str, AdverseEventClock] = {
    "death": AdverseEventClock("adverse_event.death", 7 * 24, N_("Adverse event with death: report within 7 days")),
    "serious_injury": AdverseEventClock(
        "adverse_event.serious_injury", 20 * 24, N_("Serious injury: report within 20 days")
    ),
    "abroad": AdverseEventClock("adverse_event.abroad", 30 * 24, N_("Serious event abroad: report within 30 days")),
    "cluster": AdverseEventClock(
        "adverse_event.cluster", 12, N_("Cluster adverse event (群体不良事件): report within 12 hours")
    ),
    "cluster_cases": AdverseEventClock(
        "adverse_event.cluster.cases", 24, N_("Cluster adverse event: case reports within 24 hours")
    ),
    "cluster_investigation": AdverseEventClock(
        "adverse_event.cluster.investigation", 7 * 24, N_("Cluster adverse event: registrant's report within 7 days")
    ),
}

#: Outcome values of a complaint (its ``outcome`` prop) that start an adverse-event clock.
DEATH = frozenset({"death", "died", "死亡"})
SERIOUS_INJURY = frozenset({"serious_injury", "serious injury", "严重伤害"})


def adverse_event_clocks(*, outcome: str | None, country: str | None, cluster: bool) -> list[AdverseEventClock]:
    """The clocks one complaint starts, from its outcome, where it happened and whether it belongs
    to a cluster.

    >>> [c.rule for c in adverse_event_clocks(outcome="death", country="CN", cluster=False)]
    ['adverse_event.death']
    >>> [c.rule for c in adverse_event_clocks(outcome="serious_injury", country="DE", cluster=False)]
    ['adverse_event.abroad']
    """
    found: list[AdverseEventClock] = []
    value = (outcome or "").strip().lower()
    serious = value in DEATH or value in SERIOUS_INJURY
    abroad = country is not None and country.strip().upper() not in ("", "CN", "CHN")
    if serious and abroad:
        found.append(ADVERSE_EVENT_CLOCKS["abroad"])
    elif value in DEATH:
        found.append(ADVERSE_EVENT_CLOCKS["death"])
    elif value in SERIOUS_INJURY:
        found.append(ADVERSE_EVENT_CLOCKS["serious_injury"])
    if cluster:
        found += [ADVERSE_EVENT_CLOCKS[k] for k in ("cluster", "cluster_cases", "cluster_investigation")]
    return found
