"""Live cohorts' pages: one blueprint, ``lms_cohorts``, declared in :mod:`.common` with the
helpers every page shares, and its routes in modules by sub-area:

- :mod:`.facilitate`: the facilitator's list (/facilitate/) and scheduling, editing, cancelling
  and closing a cohort;
- :mod:`.roster`: a cohort's roster, its attendance (by hand and imported) and the reflections
  learners shared;
- :mod:`.public`: the public cohort page, its calendar file, registering and withdrawing;
- :mod:`.panels`: the live sessions on the course page and the learner's dashboard.

Importing this package imports each of them, so that every route is on the blueprint that
``lms.views.blueprints`` reads from here.
"""

from lms.cohorts.views import facilitate, panels, public, roster
from lms.cohorts.views.common import blueprint

__all__ = ["blueprint", "facilitate", "panels", "public", "roster"]
