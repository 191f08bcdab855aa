"""The ``summary`` change stamp (gridmap.core.stamps): every run of the daily summary's refresh
(``evaluation.summary``) moves it, so a result kept over the summary's figures is refreshed."""

from gridmap.core.stamps import watch
from gridmap.evaluation.models import SummaryRun

watch("summary", SummaryRun)
