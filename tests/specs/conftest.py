"""The Chinese step library, seen by the ``scenarios()`` module beside this file.

``pytest_plugins`` is only allowed in the root conftest, so the steps, their fixtures and hooks
are imported here the way a host app's non-root conftest would import them.
"""

from campaignflow.testing.scoresteps import *  # noqa: F403  (the scoring steps of 考核排名.feature)
from campaignflow.testing.steps import *  # noqa: F403  (steps register as fixtures by name)
