"""Shared fixtures: config, storage, the local Slack stand-in, the running bot, the driver."""

from __future__ import annotations

import pytest

from bot.storage import Storage


@pytest.fixture
async def storage(tmp_path):
    store = Storage(tmp_path / "test.db")
    await store.open()
    yield store
    await store.close()
