"""The fast lane's fixtures (tests.oidc.lane): these tests always run on PostgreSQL."""

from tests.oidc.lane import asgi  # noqa: F401 - fixture
from tests.oidc.lane import clean_stores  # noqa: F401 - fixture: the lane's database
from tests.oidc.lane import lane_database  # noqa: F401 - fixture
from tests.oidc.lane import service  # noqa: F401 - fixture
from tests.oidc.lane import settings  # noqa: F401 - fixture
from tests.oidc.lane import warm  # noqa: F401 - fixture
