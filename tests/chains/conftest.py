"""The chain tests are pure: no Flask app, no database.

The project-wide autouse ``_transaction`` fixture (tests/conftest.py) opens a database
transaction for every test; overriding it here keeps these tests from building the app at all.
"""

import pytest


@pytest.fixture(autouse=True)
def _transaction():
    yield
