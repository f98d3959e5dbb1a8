from __future__ import annotations

import pytest


@pytest.fixture
def learner(make_user):
    return make_user()


@pytest.fixture
def learner_client(login_as, learner):
    return login_as(learner)
