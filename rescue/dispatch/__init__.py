"""The dispatcher (DESIGN §5): response plans, the ETA model, exact ranking, jurisdiction,
the recommended plan and the `suggestion` shape. Pure code: `now` is passed in."""

from rescue.dispatch.dispatcher import Dispatcher, DispatchRequest, Suggestion, as_source
from rescue.dispatch.plans import PlanError, Requirement, ResponsePlans, load_plans
from rescue.dispatch.policy import DispatchPolicy, WeatherLimits
from rescue.dispatch.ranking import rank, rank_brute_force
from rescue.dispatch.table import format_table

__all__ = [
    "DispatchPolicy", "DispatchRequest", "Dispatcher", "PlanError", "Requirement",
    "ResponsePlans", "Suggestion", "WeatherLimits", "as_source", "format_table", "load_plans",
    "rank", "rank_brute_force",
]
