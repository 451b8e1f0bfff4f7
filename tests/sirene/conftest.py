import pytest

from tests.sirene.standin import FakeClock, running_standin


@pytest.fixture
def standin(settings):
    with running_standin(settings) as server:
        yield server


@pytest.fixture
def clock():
    return FakeClock()
