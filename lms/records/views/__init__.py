"""Records pages: one blueprint, ``lms_records``, declared in :mod:`.common`, and its routes in
modules by sub-area:

- :mod:`.transcripts`: the learner's transcript (page, CSV, PDF) and its public verification page;
- :mod:`.evaluations`: the session evaluation, its results for facilitators and admins, and the
  dashboard's list of evaluations still to answer;
- :mod:`.credits`: the PD credit downloads of admins and facilitators.

Importing this package imports each of them, so that every route is on the blueprint that
``lms.views.blueprints`` reads from here.
"""

from lms.records.views import credits, evaluations, transcripts
from lms.records.views.common import blueprint

__all__ = ["blueprint", "credits", "evaluations", "transcripts"]
