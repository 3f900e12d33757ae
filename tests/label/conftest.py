"""The lifecycle sandbox (project + bare origin + local DVC remote) for the labelling commands."""

from tests.lifecycle.conftest import bare  # noqa: F401
